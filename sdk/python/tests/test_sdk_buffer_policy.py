"""Buffered-mode policy (full buffer, unreachable server, rejections) with a mock transport.

Delivery of everything on close against a real server is in e2e/test_sdk_e2e_buffer.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sdk_testkit import ingest_ok
from stripemeter import (
    BufferClosedError,
    BufferFlushError,
    BufferFullError,
    ConfigurationError,
    Event,
    EventResult,
    RetryPolicy,
    StripeMeterClient,
)

FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.005)


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> StripeMeterClient:
    return StripeMeterClient(
        "http://127.0.0.1:9",
        api_key="sk_test",
        tenant_id="acme",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        sleep=lambda s: None,
    )


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


class Counting:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.events.extend(json.loads(request.content)["events"])
        return ingest_ok(request)


def test_drop_policy_requires_a_callback() -> None:
    with client_with(ingest_ok) as client, pytest.raises(ConfigurationError):
        client.buffer(on_full="drop")


def test_drop_policy_reports_the_dropped_event() -> None:
    dropped: list[tuple[list[Event], str]] = []
    client = client_with(unreachable)
    buf = client.buffer(
        max_events=2,
        max_buffered=2,
        on_full="drop",
        on_drop=lambda evs, why: dropped.append((evs, why)),
    )
    buf.track("m", "c")
    buf.track("m", "c")
    taken = buf.track("m", "c", resource_id="third")
    buf.close(timeout=0)
    client.close()
    assert (taken, dropped[0][1], dropped[0][0][0].resource_id) == (False, "buffer_full", "third")


def test_unsent_events_reach_on_drop_at_close() -> None:
    dropped: list[tuple[list[Event], str]] = []
    client = client_with(unreachable)
    buf = client.buffer(
        max_events=10,
        max_buffered=10,
        on_full="drop",
        on_drop=lambda evs, why: dropped.append((evs, why)),
    )
    for _ in range(3):
        buf.track("m", "c")
    buf.close(timeout=0.05)
    client.close()
    assert [(len(evs), why) for evs, why in dropped] == [(3, "undelivered")]


def test_block_policy_times_out_with_buffer_full() -> None:
    client = client_with(unreachable)
    buf = client.buffer(max_events=1, max_buffered=1, block_timeout=0.01)
    buf.track("m", "c")
    with pytest.raises(BufferFullError):
        buf.track("m", "c")
    with pytest.raises(BufferFlushError):
        buf.close(timeout=0)
    client.close()


def test_close_raises_with_the_undelivered_events_when_no_callback() -> None:
    client = client_with(unreachable)
    buf = client.buffer(max_events=10, max_buffered=10)
    buf.track("m", "c", resource_id="r1")
    with pytest.raises(BufferFlushError) as info:
        buf.close(timeout=0.05)
    client.close()
    assert [e.resource_id for e in info.value.undelivered] == ["r1"]


def test_close_sends_everything_queued() -> None:
    counting = Counting()
    with client_with(counting) as client, client.buffer(max_events=7, max_interval=60) as buf:
        for i in range(30):
            buf.track("m", "c", resource_id=str(i))
    assert sorted(int(e["resourceId"]) for e in counting.events) == list(range(30))


def test_server_rejections_reach_on_rejected() -> None:
    def reject_all(request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["events"]
        return httpx.Response(
            200,
            json={
                "accepted": 0,
                "duplicates": 0,
                "rejected": len(events),
                "results": [
                    {"index": i, "status": "rejected", "error": {"code": "unknown_metric"}}
                    for i in range(len(events))
                ],
            },
        )

    seen: list[tuple[Event, EventResult]] = []
    with client_with(reject_all) as client:
        buf = client.buffer(on_rejected=seen.extend)
        buf.track("nope", "c")
        buf.close()
    assert [(e.metric, r.error_code) for e, r in seen] == [("nope", "unknown_metric")]


def test_refused_batch_reaches_on_drop() -> None:
    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"title": "unauthorized", "status": 401})

    dropped: list[str] = []
    with client_with(unauthorized) as client:
        buf = client.buffer(on_drop=lambda evs, why: dropped.append(why))
        buf.track("m", "c")
        buf.close()
    assert dropped == ["refused"]


def test_track_after_close_raises() -> None:
    with client_with(ingest_ok) as client:
        buf = client.buffer()
        buf.close()
        with pytest.raises(BufferClosedError):
            buf.track("m", "c")


def test_flush_drains_the_queue() -> None:
    counting = Counting()
    with client_with(counting) as client:
        buf = client.buffer(max_events=100, max_interval=60)
        buf.track("m", "c")
        drained = buf.flush()
        buf.close()
    assert (drained, len(counting.events)) == (True, 1)


def test_client_close_closes_its_buffers() -> None:
    counting = Counting()
    client = client_with(counting)
    buf = client.buffer(max_events=100, max_interval=60)
    buf.track("m", "c")
    client.close()
    assert (len(counting.events), buf.pending) == (1, 0)
