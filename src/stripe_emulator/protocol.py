"""uvicorn's httptools protocol, answering with one socket write per response.

uvicorn writes a response's status line and headers as soon as the app starts the
response, then the body in a second ``write``: two syscalls and two TCP segments per
answer, so a client wakes twice and reads twice. On loopback that was most of the
emulator's CPU per meter event and a good part of the client's (README). The transport
below gathers what one turn of the event loop writes to a connection and sends it at the
end of that turn: headers and body leave together, nothing waits longer than the turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """Delegates to the socket's transport; ``write`` is deferred to the loop turn's end."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()  # what was written before a close is sent, as by the transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class EmulatorHttpProtocol(HttpToolsProtocol):
    """``uvicorn.run(app, http=EmulatorHttpProtocol)``: httptools, one write per answer."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)
