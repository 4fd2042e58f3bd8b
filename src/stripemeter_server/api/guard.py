"""Request-wide input bounds, applied once to every route (ADR 0006).

* ``BodyLimitMiddleware``: every request body is read up to ``max_body_bytes`` before any
  route sees it; beyond that the answer is ``413`` (a declared ``Content-Length`` over the
  limit is refused without reading at all).
* ``guard_request``: an app-wide dependency that refuses, with ``422`` naming the parameter,
  any path or query parameter whose percent-escapes are not UTF-8 (the framework would
  decode them lossily into U+FFFD), longer than an identifier or holding a NUL or an unpaired
  surrogate, and any string (key or value) of a JSON body that is longer than the free-text
  limit or holds such a character. PostgreSQL cannot store NUL and no store can encode an
  unpaired surrogate, so one rule for every string keeps both stores alike.

Ingest reads its own body (it reports bad events one by one); its events are checked by the
same bounded parsers in ``domain/events.py``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripemeter_server.api.errors import problem
from stripemeter_server.domain.bounded import (
    MAX_IDENTIFIER_LENGTH,
    MAX_TEXT_LENGTH,
    find_unsafe,
    string_problem,
)
from stripemeter_server.domain.errors import ValidationError


class BodyLimitMiddleware:
    """Buffer each body up to the limit, then replay it to the app; ``413`` beyond."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self.read(scope, receive, send)
        if body is not None:
            await self.app(scope, replay(body, receive), send)

    async def read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The body (what arrived, if the client went away), or ``None`` once refused."""
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send, declared)
            return None
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see the disconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send, size)
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        response = problem(
            413,
            "payload_too_large",
            f"the body is {size} bytes or more; at most {self.limit} allowed",
            errors=[{"field": "body", "code": "payload_too_large", "message": "too large"}],
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    return None


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands out ``body`` first (already read), then the client's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def check_params(request: Request) -> None:
    """Refuse unstorable or oversized strings in the path and the query (lean routes, which
    skip the app-wide dependency, call this themselves)."""
    _check_percent_escapes(request)
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in params:
        for text in (name, value):
            found = string_problem(str(text), MAX_IDENTIFIER_LENGTH)
            if found is not None:
                _refuse_field(_printable(name), *found)


async def guard_request(request: Request) -> None:
    """Refuse unstorable or oversized strings in the path, the query and a JSON body."""
    check_params(request)
    route: Any = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return
    try:
        body = await request.json()  # parsed (and cached) by FastAPI already
    except Exception:
        return  # not JSON: FastAPI's own validation answers for it
    refuse_unsafe_body(body)


def refuse_unsafe_body(body: Any) -> None:
    """Refuse an oversized or unstorable string (key or value) anywhere in a JSON body."""
    found_in_body = find_unsafe(body, max_length=MAX_TEXT_LENGTH)
    if found_in_body is not None:
        _refuse_field(*found_in_body)


def _check_percent_escapes(request: Request) -> None:
    """Percent-escapes that do not decode as UTF-8 (``%FF%FE``) are refused, naming the path
    parameter or query key they are in, instead of being replaced by U+FFFD."""
    raw_path: bytes = request.scope.get("raw_path") or b""
    if b"%" in raw_path:
        route: Any = request.scope.get("route")
        template = str(getattr(route, "path", "")).split("/")
        for index, segment in enumerate(raw_path.split(b"/")):
            if not _utf8(segment):
                name = template[index] if index < len(template) else ""
                field = name.strip("{}").split(":")[0] if name.startswith("{") else "path"
                _refuse_field(field, "invalid_encoding", "has percent-escapes that are not UTF-8")
    query: bytes = request.scope.get("query_string") or b""
    if b"%" in query:
        for pair in query.split(b"&"):
            key, _, value = pair.partition(b"=")
            if not _utf8(key):
                _refuse_field(
                    "query",
                    "invalid_encoding",
                    "has a parameter name whose percent-escapes are not UTF-8",
                )
            if not _utf8(value):
                field = _printable(unquote_to_bytes(key.replace(b"+", b" ")).decode())
                _refuse_field(field, "invalid_encoding", "has percent-escapes that are not UTF-8")


def _utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refuse_field(field: str, code: str, reason: str) -> None:
    raise ValidationError(f"{field} {reason}", code=code, field=field)


def _printable(text: str) -> str:
    return text[:100].encode("unicode_escape").decode("ascii")
