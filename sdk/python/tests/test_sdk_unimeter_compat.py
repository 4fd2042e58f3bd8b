"""Unimeter's client code works as written: bare ``host:port`` nodes, ``connect()``; and
events can be imported inside a backfill session."""

from __future__ import annotations

import asyncio
import json

import httpx
from sdk_testkit import Recorder, ingest_ok
from stripemeter import AsyncClient, Event


def live(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "live"})


def test_bare_host_port_nodes_mean_plain_http() -> None:
    client = AsyncClient(["localhost:7001", "10.0.0.2:7001"], api_key="sk_test")
    assert client.nodes == ["http://localhost:7001", "http://10.0.0.2:7001"]


def test_connect_asks_a_node_whether_it_is_live() -> None:
    rec = Recorder([live])

    async def run() -> None:
        async with AsyncClient(
            ["localhost:7001"], api_key="sk_test", transport=httpx.MockTransport(rec)
        ) as client:
            await client.connect()

    asyncio.run(run())
    assert [str(r.url) for r in rec.requests] == ["http://localhost:7001/health/live"]


def test_an_event_names_its_backfill_session() -> None:
    rec = Recorder([ingest_ok])

    async def run() -> None:
        async with AsyncClient(
            "http://127.0.0.1:9",
            api_key="sk_test",
            tenant_id="acme",
            transport=httpx.MockTransport(rec),
        ) as client:
            await client.ingest([Event("m", "c", backfill_id="bf_1")])

    asyncio.run(run())
    assert json.loads(rec.requests[0].content)["events"][0]["backfillId"] == "bf_1"
