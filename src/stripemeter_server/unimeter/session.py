"""One client connection: read a frame, answer it, again, until the client goes.

Bounded at every step: a header must arrive within the idle timeout, its payload within
the frame timeout, and a payload over the cap is never read. A header the stream cannot go
on from (wrong magic, payload over the cap) is answered with ``ERR`` and the connection
closed; a frame with an unknown version or packet type, or a payload that does not decode,
is answered with ``ERR`` and the session goes on. A slow reader is dropped rather than
buffered for: every write drains within the frame timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.dispatch import Peer, dispatch
from stripemeter_server.unimeter.wire import (
    BROADCAST_REQUEST_ID,
    DEFAULT_MAX_PAYLOAD,
    KNOWN_PACKETS,
    REQUEST_HEADER_SIZE,
    VERSION,
    FrameRefused,
    PacketType,
    Status,
    encode_response,
    parse_request_header,
)

log = logging.getLogger("stripemeter.unimeter")


@dataclass(frozen=True, slots=True)
class SessionLimits:
    max_payload: int = DEFAULT_MAX_PAYLOAD
    idle_seconds: float = 900.0  # no request for this long: the connection is closed
    frame_seconds: float = 30.0  # a started frame, or a write, must complete within this


class Writer(Protocol):
    """The part of ``asyncio.StreamWriter`` a session uses (tests pass their own)."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class Session:
    def __init__(
        self,
        backend: Backend,
        reader: asyncio.StreamReader,
        writer: Writer,
        peer: Peer,
        limits: SessionLimits,
    ) -> None:
        self._backend, self._reader, self._writer = backend, reader, writer
        self._peer, self._limits = peer, limits
        self._write_lock = asyncio.Lock()
        self.wants_alerts = False
        self.open = True

    async def run(self) -> None:
        """Serve frames until the client closes, times out or breaks the framing."""
        try:
            while await self._serve_one():
                pass
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open = False
            self._writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(self._writer.wait_closed(), self._limits.frame_seconds)

    async def _serve_one(self) -> bool:
        head = await asyncio.wait_for(
            self._reader.readexactly(REQUEST_HEADER_SIZE), self._limits.idle_seconds
        )
        header = parse_request_header(head, self._limits.max_payload)
        if isinstance(header, FrameRefused):
            log.info("unimeter frame refused, closing: %s", header.reason)
            await self._send(encode_response(Status.ERR, header.request_id))
            return False
        payload = await asyncio.wait_for(
            self._reader.readexactly(header.payload_len), self._limits.frame_seconds
        )
        if header.version != VERSION or header.packet_type not in KNOWN_PACKETS:
            await self._send(encode_response(Status.ERR, header.request_id))
            return True
        status, body = await dispatch(self._backend, header.packet_type, payload, self._peer)
        if header.packet_type == PacketType.ALERT_PUSH_ENABLE and status is Status.OK:
            self.wants_alerts = True
        await self._send(encode_response(status, header.request_id, body))
        return True

    async def push(self, packet_type: int, payload: bytes) -> None:
        """A server push (request id 0; the status byte is the packet type)."""
        if self.open:
            try:
                await self._send(encode_response(packet_type, BROADCAST_REQUEST_ID, payload))
            except (ConnectionError, TimeoutError):
                self.open = False

    async def _send(self, frame: bytes) -> None:
        async with self._write_lock:
            self._writer.write(frame)
            await asyncio.wait_for(self._writer.drain(), self._limits.frame_seconds)
