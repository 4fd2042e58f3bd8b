"""uvicorn HTTP protocols whose parse-error answer is a problem body, like every other error.

A request whose head the HTTP parser refuses (a NUL or another control byte in a header,
such as a malformed ``Authorization``) never reaches the application: uvicorn answers it
itself with a ``text/plain`` 400. These subclasses keep uvicorn's behaviour — 400, then
close the connection — and only change the body to RFC 9457 ``application/problem+json``.
``serve`` passes them to uvicorn by import path (so ``--workers`` can spawn them too).

The httptools protocol also answers with one socket write per response (ADR 0964): uvicorn
writes a response's status line and headers when the app starts the response and the body
in a second ``write``, so every answer cost two syscalls and two TCP segments, and a client
woke twice to read it. With single events over 16 connections the first of those writes was
a third of the server's CPU samples. :class:`CoalescingTransport` gathers what one turn of
the event loop writes to a connection and sends it at the end of that turn.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

PROBLEM = {
    "type": "https://stripemeter.dev/problems/invalid_http_request",
    "title": "Bad Request",
    "status": 400,
    "detail": "the HTTP request could not be parsed (a header holds a control character, "
    "or the request line or a header is malformed)",
    "code": "invalid_http_request",
}
BODY = json.dumps(PROBLEM, separators=(",", ":")).encode("ascii")
HEADERS = [
    (b"content-type", b"application/problem+json"),
    (b"content-length", str(len(BODY)).encode("ascii")),
    (b"connection", b"close"),
]


def raw_response() -> bytes:
    """The whole 400 response as bytes, for protocols that write to the transport."""
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head.extend(name + b": " + value + b"\r\n" for name, value in HEADERS)
    return b"".join([*head, b"\r\n", BODY])


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        event = h11.Response(status_code=400, headers=HEADERS, reason=b"Bad Request")
        self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.Data(data=BODY)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


class CoalescingTransport:
    """Delegates to the connection's transport; ``write`` is deferred to the end of the loop
    turn, so what one turn writes (a response's head and body) leaves in one ``write``.
    Nothing waits longer than the turn, and the order of writes is kept."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if not self.inner.is_closing():
            self.inner.write(b"".join(pending) if len(pending) > 1 else pending[0])

    def get_write_buffer_size(self) -> int:
        """Flow control's view: the transport's buffer plus what waits for the turn's end."""
        return self.inner.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def close(self) -> None:
        self.flush()  # what was written before a close is sent, as by the transport
        self.inner.close()

    def abort(self) -> None:
        self._pending = []
        self.inner.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


try:  # httptools is what uvicorn[standard] uses by default
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            coalescing: Any = CoalescingTransport(transport, self.loop)
            super().connection_made(coalescing)

        def handle_websocket_upgrade(self) -> None:
            """The WebSocket protocol takes the connection's own transport over (what was
            written before is sent first)."""
            coalescing: CoalescingTransport = self.transport  # type: ignore[assignment]
            coalescing.flush()
            self.transport = coalescing.inner
            super().handle_websocket_upgrade()

        def send_400_response(self, msg: str) -> None:
            self.transport.write(raw_response())
            self.transport.close()

    DEFAULT_PROTOCOL = "stripemeter_server.api.protocol:ProblemHttpToolsProtocol"
except ImportError:  # pragma: no cover - only without uvicorn[standard]
    DEFAULT_PROTOCOL = "stripemeter_server.api.protocol:ProblemH11Protocol"
