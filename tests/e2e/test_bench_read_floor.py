"""The read floor (``benchmarks/read_floor.py``, ADR 0987): a bare app served as ``serve``
serves, driven as ``read_current`` is; it must answer every read, and burn the CPU asked."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks import read_floor


def _call(cpu_s: float) -> tuple[list[dict[str, Any]], float]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    app = read_floor.build_app(cpu_s)
    before = time.thread_time()
    asyncio.run(app({"type": "http", "method": "GET", "path": "/"}, None, send))
    return sent, time.thread_time() - before


def test_the_app_answers_the_fixed_body_with_its_length() -> None:
    sent, _ = _call(0.0)
    head, body = sent
    assert head["status"] == 200
    assert dict(head["headers"])[b"content-length"] == str(len(read_floor.BODY)).encode()
    assert body["body"] == read_floor.BODY


def test_the_app_burns_at_least_the_cpu_asked() -> None:
    _, used = _call(0.02)
    assert used >= 0.02  # a lower bound on this thread's CPU, not a timing


def test_a_run_answers_every_read_through_the_load_generator() -> None:
    row = read_floor.measure(0.0, 40)
    assert row["ok"] is True
    assert row["requests"] == 40
    assert row["p50_ms"] is not None and row["p99_ms"] is not None
    assert row["run_queue_ms_per_s"] >= 0
