"""The emulator's transport sends what one loop turn writes in one ``write`` (protocol.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from stripe_emulator.protocol import CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


def test_one_turn_of_writes_leaves_as_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = FakeTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        assert inner.writes == []  # nothing before the turn ends
        await asyncio.sleep(0)
        transport.write(bytearray(b"next"))
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next"]


def test_close_sends_what_was_written_first_and_the_rest_delegates() -> None:
    async def scenario() -> FakeTransport:
        inner = FakeTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"half a body")
        assert transport.get_extra_info("peername") == "info:peername"
        transport.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"half a body"] and inner.closed
