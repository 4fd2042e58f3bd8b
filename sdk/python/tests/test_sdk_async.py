"""AsyncClient: same behaviour as the sync client (mock transport, injected async sleep)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sdk_testkit import Recorder, ingest_ok, status
from stripemeter import AsyncClient, BadRequestError, Event, MetricSchema, RetryPolicy


def make(rec: Recorder, sleeps: list[float], **kw: Any) -> AsyncClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    kw.setdefault("api_key", "sk_test")
    kw.setdefault("tenant_id", "acme")
    return AsyncClient(
        kw.pop("urls", "http://127.0.0.1:9"),
        transport=httpx.MockTransport(rec),
        sleep=sleep,
        retry=RetryPolicy(max_attempts=4),
        **kw,
    )


def test_async_track_retries_5xx_with_the_same_key() -> None:
    rec = Recorder([status(503), ingest_ok])

    async def run() -> None:
        async with make(rec, []) as client:
            await client.track("m", "c")

    asyncio.run(run())
    assert len({json.loads(r.content)["events"][0]["idempotencyKey"] for r in rec.requests}) == 1


def test_async_429_honours_retry_after() -> None:
    rec = Recorder([status(429, {"Retry-After": "2"}), ingest_ok])
    sleeps: list[float] = []

    async def run() -> None:
        async with make(rec, sleeps) as client:
            await client.track("m", "c")

    asyncio.run(run())
    assert sleeps == [2.0]


def test_async_validation_error_not_retried() -> None:
    rec = Recorder([status(422), ingest_ok])

    async def run() -> None:
        async with make(rec, []) as client:
            await client.ingest([Event(account_id=1, metric_code="m", value=1)])

    with pytest.raises(BadRequestError):
        asyncio.run(run())


def test_async_failover_to_the_second_node() -> None:
    rec = Recorder([httpx.ConnectError("down"), ingest_ok])

    async def run() -> None:
        async with make(rec, [], urls=["http://127.0.0.1:1", "http://127.0.0.1:2"]) as client:
            await client.track("m", "c")

    asyncio.run(run())
    assert [r.url.port for r in rec.requests] == [1, 2]


def test_async_metrics_create() -> None:
    rec = Recorder([lambda r: httpx.Response(200, json=json.loads(r.content))])

    async def run() -> str:
        async with make(rec, []) as client:
            return (await client.metrics.create(MetricSchema("m"))).aggregation

    assert asyncio.run(run()) == "count"


def test_async_client_reads_key_and_tenant_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPEMETER_API_KEY", "sk_env")
    monkeypatch.setenv("STRIPEMETER_TENANT", "t_env")

    async def run() -> str | None:
        async with AsyncClient(["http://127.0.0.1:9"]) as client:
            return client.tenant_id

    assert asyncio.run(run()) == "t_env"
