"""Request id, latency metrics and the request's log line as a plain ASGI middleware.

Starlette's ``BaseHTTPMiddleware`` runs the app in an extra task per request; on the ingest
hot path that overhead is measurable, so this one only wraps ``send``.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripemeter_server.api.logs import request_line
from stripemeter_server.api.telemetry import Telemetry


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.telemetry.requests.labels(template, scope.get("method", ""), str(status)).observe(
                elapsed
            )
            tenant = scope["state"].get("tenant_id")  # set once the key is authenticated
            request_line(request_id, tenant, template, scope.get("method", ""), status, elapsed)


def request_id_of(scope: Scope) -> str:
    """The client's request id when it sent a plain token, else a fresh one."""
    return _header(scope, b"x-request-id") or f"req_{uuid.uuid4().hex[:24]}"


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}", re.ASCII)


def _header(scope: Scope, name: bytes) -> str | None:
    """A client's request id, if it is a plain token (it is stored with events and echoed in
    headers, so anything else — NUL, spaces, non-ASCII — is replaced by a fresh id)."""
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None
