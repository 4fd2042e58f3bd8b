"""The server's transport sends what one loop turn writes in one ``write`` (ADR 0964)."""

from __future__ import annotations

import asyncio
from typing import Any

from stripemeter_server.api.protocol import CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 100

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


def _coalescing(inner: FakeTransport) -> CoalescingTransport:
    return CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]


def test_a_head_and_body_written_in_one_turn_leave_as_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = FakeTransport()
        transport = _coalescing(inner)
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        assert inner.writes == []  # nothing before the turn ends
        assert transport.get_write_buffer_size() == 100 + 40  # flow control sees both
        await asyncio.sleep(0)
        transport.write(bytearray(b"next"))
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next"]


def test_close_sends_what_was_written_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[FakeTransport, FakeTransport]:
        closed, aborted = FakeTransport(), FakeTransport()
        first = _coalescing(closed)
        first.write(b"half a body")
        assert first.get_extra_info("peername") == "info:peername"  # the rest delegates
        first.close()
        second = _coalescing(aborted)
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)  # the scheduled flushes find nothing left to send
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert closed.writes == [b"half a body"] and closed.closed
    assert aborted.writes == [] and aborted.aborted


def test_nothing_is_written_to_a_transport_closed_meanwhile() -> None:
    async def scenario() -> FakeTransport:
        inner = FakeTransport()
        transport = _coalescing(inner)
        transport.write(b"late")
        inner.closed = True  # the peer went away before the turn ended
        await asyncio.sleep(0)
        return inner

    assert asyncio.run(scenario()).writes == []
