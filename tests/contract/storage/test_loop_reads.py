"""Current usage awaited on the event loop (PostgreSQL, ADR 0971): the same inputs as the
unit of work's one statement, at most ``limit`` connections per loop (then ``None``, for
the caller to read through a unit of work), and a connection that fails is dropped, its
error translated, the next read served on a new one. SQLite has none (it reads inline)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine

from stripemeter_server.domain.errors import UnavailableError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.storage.usage_loop_reads import PostgresLoopReads

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def _fill(store: Store) -> None:
    with store.unit_of_work("") as uow:
        create_tenant(uow, "acme", name=None, auto_create_metrics=True, now=NOW)
        uow.commit()
    events = [
        {"metric": m, "customerRef": "cus_ä", "quantity": q, "ts": "2025-01-10T00:00:00Z"}
        for m in ("calls", "bytes")
        for q in ("1.50", "0.250", "7")
    ]
    with store.unit_of_work("acme") as uow:
        outcome = ingest_batch(uow, events, now=NOW, limits=EventLimits())
        uow.commit()
    assert outcome.count("accepted") == len(events)


def test_sqlite_has_none(store: Store) -> None:
    if store.dialect == "sqlite":
        assert store.loop_reads() is None


def test_the_loop_read_is_the_unit_of_works(store: Store) -> None:
    reads = store.loop_reads()
    if reads is None:
        return
    _fill(store)
    with store.unit_of_work("acme", read_only=True, shared_snapshot=False) as uow:
        expected = [
            uow.current_reads.current_inputs(ref, to_micros(NOW)) for ref in ("cus_ä", "nobody")
        ]

    async def read() -> list[object]:
        return [await reads.current_inputs("acme", r, to_micros(NOW)) for r in ("cus_ä", "nobody")]

    found = asyncio.run(read())
    assert found == expected
    sums = sorted(c.state.sum for c in expected[0].counters)
    assert sums == [Decimal("8.750"), Decimal("8.750")]


def test_past_its_limit_a_loop_reads_nothing(store: Store) -> None:
    if store.dialect != "postgresql":
        return
    reads = PostgresLoopReads(store.engine, 0)
    try:
        assert asyncio.run(reads.current_inputs("acme", "cus_a", to_micros(NOW))) is None
    finally:
        reads.close()


def test_a_lost_session_is_dropped_and_left_to_the_pools_path(store: Store) -> None:
    if store.dialect != "postgresql":
        return
    _fill(store)
    reads = PostgresLoopReads(store.engine, 1)

    async def scenario() -> None:
        first = await reads.current_inputs("acme", "cus_ä", to_micros(NOW))
        assert first is not None
        for conn in list(reads._all):  # the session ends under the read
            conn.pgconn.finish()
        assert await reads.current_inputs("acme", "cus_ä", to_micros(NOW)) is None
        assert not reads._all  # the dead connection was closed and forgotten
        assert await reads.current_inputs("acme", "cus_ä", to_micros(NOW)) == first

    try:
        asyncio.run(scenario())
    finally:
        reads.close()


def test_a_server_that_cannot_be_reached_is_unavailable(store: Store) -> None:
    if store.dialect != "postgresql":
        return
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    reads = PostgresLoopReads(engine, 1)
    try:
        with pytest.raises(UnavailableError):
            asyncio.run(reads.current_inputs("acme", "cus_a", to_micros(NOW)))
    finally:
        reads.close()
        engine.dispose()
