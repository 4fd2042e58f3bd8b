"""Every packet type through Unimeter's own client (``unimeter-python``) against the
listener on a loopback port, on a frozen clock (2025-01-16 14:30 UTC)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from unimeter import (
    AggType,
    AlertThreshold,
    AsyncClient,
    Event,
    MetricSchema,
    Period,
    PeriodType,
)
from unimeter import protocol as wire_protocol

from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.server import UnimeterConfig, UnimeterServer
from stripemeter_server.unimeter.wire import (
    RESPONSE_HEADER_SIZE,
    PacketType,
    Status,
    encode_request,
    parse_response_header,
)

JANUARY = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
EARLY = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
GUARD_SECONDS = 30  # hang guards, not speed assertions

Scenario = Callable[[AsyncClient, str], Awaitable[None]]


def with_client(backend: Backend, scenario: Scenario) -> None:
    async def run() -> None:
        server = UnimeterServer(backend, UnimeterConfig("127.0.0.1", 0, "default"))
        await server.start()
        address = f"127.0.0.1:{server.port}"
        try:
            async with AsyncClient([address]) as client:
                await asyncio.wait_for(scenario(client, address), GUARD_SECONDS)
        finally:
            await server.stop()

    asyncio.run(run())


async def raw(address: str, packet: int, payload: bytes) -> tuple[int, bytes]:
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(encode_request(packet, payload, 1))
    status, _, length = parse_response_header(await reader.readexactly(RESPONSE_HEADER_SIZE))
    body = await reader.readexactly(length)
    writer.close()
    return status, body


def calls(**changes: object) -> MetricSchema:
    base: dict[str, object] = {
        "code": "api_calls",
        "agg_type": AggType.COUNT,
        "period_type": PeriodType.CALENDAR,
        "billing_cycle_day": 1,
    }
    return MetricSchema(**{**base, **changes})


def test_metrics_are_put_listed_changed_and_deleted(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls())
        await client.metrics.create(calls())  # the same definition again is fine
        await client.metrics.update(calls(agg_type=AggType.SUM))
        listed = await client.metrics.list()
        assert [(m.code, m.agg_type) for m in listed] == [("api_calls", AggType.SUM)]
        await client.metrics.delete("api_calls")
        assert await client.metrics.list() == []

    with_client(backend, scenario)


def test_a_resent_batch_counts_once(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls())
        batch = [
            Event(
                account_id=7,
                metric_code="api_calls",
                value=1,
                timestamp=EARLY + timedelta(seconds=i),
            )
            for i in range(5)
        ]
        first = await client.ingest(batch)
        again = await client.ingest(batch)
        assert (first.n_stored, first.n_duplicates) == (5, 0)
        assert (again.n_stored, again.n_duplicates) == (0, 5)
        assert (await client.query(7, "api_calls", JANUARY)).value.count == 5

    with_client(backend, scenario)


def test_a_window_other_than_the_period_is_read_from_the_ledger(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls(agg_type=AggType.SUM))
        await client.ingest(
            [
                Event(
                    account_id=7,
                    metric_code="api_calls",
                    value=v,
                    timestamp=EARLY + timedelta(days=d),
                )
                for d, v in ((0, 10), (1, 20), (2, 40))
            ]
        )
        window = Period(EARLY, EARLY + timedelta(days=2))
        assert (await client.query(7, "api_calls", window)).value.sum == 30

    with_client(backend, scenario)


def test_realtime_reads_the_open_period(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls(agg_type=AggType.MAX))
        await client.ingest(
            [Event(account_id=9, metric_code="api_calls", value=v) for v in (3, 8, 5)]
        )  # no timestamps: the receive time
        value = await client.query_realtime(9, "api_calls")
        assert (value.max, value.count) == (8, 3)

    with_client(backend, scenario)


def test_breakdown_and_filters_split_by_properties(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls())
        await client.ingest(
            [
                Event(
                    account_id=7,
                    metric_code="api_calls",
                    value=1,
                    timestamp=EARLY + timedelta(minutes=i),
                    properties={"region": region},
                )
                for i, region in enumerate(["eu", "eu", "us"])
            ]
        )
        cells = await client.query_breakdown(7, "api_calls", JANUARY, group_by=["region"])
        assert {dict(k)["region"]: v.count for k, v in cells.items()} == {"eu": 2, "us": 1}
        only_us = await client.query(7, "api_calls", JANUARY, filters={"region": "us"})
        assert only_us.value.count == 1

    with_client(backend, scenario)


def ingest_frame(*events: tuple[str, int]) -> bytes:
    """An ingest payload as the client encodes it: (metric, account) events at EARLY."""
    ts = int(EARLY.timestamp()) * 10**9
    return wire_protocol.encode_ingest_payload(
        [(metric, account, ts + i, 1, 0, 0, []) for i, (metric, account) in enumerate(events)]
    )


def test_an_unknown_metric_is_flagged_and_the_other_events_stored(backend: Backend) -> None:
    async def scenario(client: AsyncClient, address: str) -> None:
        await client.metrics.create(calls())
        status, body = await raw(
            address, PacketType.INGEST_SYNC, ingest_frame(("api_calls", 7), ("nope", 7))
        )
        assert (status, struct.unpack("<IIQ", body)) == (Status.UNKNOWN_METRIC, (1, 0, 0))
        assert (await client.query(7, "api_calls", JANUARY)).value.count == 1

    with_client(backend, scenario)


def test_a_batch_of_duplicates_answers_duplicate(backend: Backend) -> None:
    async def scenario(client: AsyncClient, address: str) -> None:
        await client.metrics.create(calls())
        frame = ingest_frame(("api_calls", 8), ("api_calls", 8))
        first = await raw(address, PacketType.INGEST_ASYNC, frame)
        again = await raw(address, PacketType.INGEST_ASYNC, frame)
        assert [(s, struct.unpack("<IIQ", b)[:2]) for s, b in (first, again)] == [
            (Status.OK, (2, 0)),
            (Status.DUPLICATE, (0, 2)),
        ]

    with_client(backend, scenario)


def test_thresholds_fire_alerts_that_are_listed_and_pushed(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls(thresholds=[AlertThreshold("soft", 3)]))
        subscription = await client.alerts.subscribe(account_ids=[5])
        await asyncio.sleep(1.5)  # the pusher's first tick takes its starting point
        await client.ingest(
            [Event(account_id=5, metric_code="api_calls", value=1) for _ in range(3)]
        )
        pushed = await anext(subscription)
        listed = await client.list_alerts(5)
        assert (
            pushed.account_id,
            pushed.metric_code,
            pushed.threshold_code,
            pushed.value_at_cross,
        ) == (5, "api_calls", "soft", 3)
        assert [(a.log_offset, a.threshold_code) for a in listed] == [(pushed.log_offset, "soft")]
        await subscription.close()

    with_client(backend, scenario)


def test_the_aggregate_flags_the_thresholds_reached(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(
            calls(thresholds=[AlertThreshold("soft", 2), AlertThreshold("hard", 10)])
        )
        await client.ingest(
            [Event(account_id=4, metric_code="api_calls", value=1) for _ in range(3)]
        )
        assert (await client.query_realtime(4, "api_calls")).alert_flags == 0b01

    with_client(backend, scenario)


def test_events_are_listed_for_an_account(backend: Backend) -> None:
    async def scenario(client: AsyncClient, address: str) -> None:
        await client.metrics.create(calls())
        await client.ingest(
            [Event(account_id=3, metric_code="api_calls", value=2, timestamp=EARLY)]
        )
        since, until = int(JANUARY.start.timestamp()) * 10**9, int(JANUARY.end.timestamp()) * 10**9
        status, body = await raw(
            address, PacketType.EVENTS_LIST, struct.pack("<Qqq", 3, since, until)
        )
        assert status == Status.OK and len(body) == 8 + 104
        assert struct.unpack_from("<I", body) == (1,)
        _, ts, account, metric, value, op = struct.unpack_from("<QqQ64sQB7x", body, 8)
        assert (account, metric.rstrip(b"\0"), ts, value, op) == (
            3,
            b"api_calls",
            int(EARLY.timestamp()) * 10**9,
            2,
            0,
        )

    with_client(backend, scenario)


def test_cluster_status_names_one_node_leading_every_partition(backend: Backend) -> None:
    async def scenario(_client: AsyncClient, address: str) -> None:
        status, body = await raw(address, PacketType.CLUSTER_STATUS, b"")
        node, nodes = struct.unpack_from("<BB", body)
        partitions = [struct.unpack_from("<IHBB", body, 40 + 8 * i) for i in range(256)]
        assert (status, node, nodes, len(body)) == (Status.OK, 0, 1, 40 + 256 * 8)
        assert {(role, leader) for _v, _c, role, leader in partitions} == {(0, 0)}

    with_client(backend, scenario)


def test_restating_a_threshold_keeps_what_it_already_fired(backend: Backend) -> None:
    async def scenario(client: AsyncClient, _: str) -> None:
        await client.metrics.create(calls(thresholds=[AlertThreshold("soft", 2)]))
        await client.ingest(
            [Event(account_id=6, metric_code="api_calls", value=1) for _ in range(2)]
        )
        await client.metrics.update(
            calls(thresholds=[AlertThreshold("soft", 2), AlertThreshold("hard", 4)])
        )
        await client.ingest(
            [Event(account_id=6, metric_code="api_calls", value=1) for _ in range(2)]
        )
        fired = [a.threshold_code for a in await client.list_alerts(6)]
        assert fired == ["soft", "hard"]  # "soft" did not fire a second time

    with_client(backend, scenario)
