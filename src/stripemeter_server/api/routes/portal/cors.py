"""CORS for the portal read API, per tenant (ADR 0911).

A preflight carries no token, so it is answered for an origin that some tenant allows; the
actual response carries ``Access-Control-Allow-Origin`` only when the token's own tenant
allows the origin, so a page of another origin can send but never read. Every other path
is passed through untouched (the admin API answers no CORS at all)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripemeter_server.api.deps import AppState, run_as_system
from stripemeter_server.api.routes.portal.auth import ORIGINS_STATE
from stripemeter_server.service.portal.settings import origin_allowed_anywhere

PREFIX = "/portal/v1/"
ALLOW_METHODS = b"GET, POST, DELETE"
ALLOW_HEADERS = b"authorization, content-type"
MAX_AGE = b"600"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


class PortalCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        origin = (_header(scope, b"origin") or "").lower()
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await self._preflight(scope, origin, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"vary", b"Origin"))
                allowed = scope.get("state", {}).get(ORIGINS_STATE, ())
                if origin and origin in allowed:
                    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, origin: str, send: Send) -> None:
        state: AppState = scope["app"].state.stripemeter
        allowed = bool(origin) and await run_as_system(
            state, "", lambda uow: origin_allowed_anywhere(uow, origin), read_only=True
        )
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        if allowed:
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", MAX_AGE),
            ]
        await send(
            {"type": "http.response.start", "status": 204 if allowed else 403, "headers": headers}
        )
        await send({"type": "http.response.body", "body": b""})
