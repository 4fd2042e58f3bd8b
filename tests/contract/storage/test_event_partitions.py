"""The ledger in monthly partitions on PostgreSQL (ADR 0810): each event in the month it was
received, the default partition for months not prepared, each key stored once whatever the
month, and the migration moving an existing ledger into its months."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage import migrate
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.event_partitions import EventPartitionsWorker
from tests.conftest import open_store
from tests.support.ledger import ingest, make_tenant
from tests.support.postgres import PostgresServer

JAN = datetime(2025, 1, 16, tzinfo=UTC)
FEB = datetime(2025, 2, 3, tzinfo=UTC)
METRIC = [{"code": "calls", "aggregation": "sum"}]


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store("postgres", request, tmp_path)
    make_tenant(opened, "acme", JAN, METRIC)
    yield opened
    opened.close()


def _event(key: str, quantity: str = "1") -> dict[str, object]:
    return {
        "metric": "calls",
        "customerRef": "c",
        "quantity": quantity,
        "ts": "2025-01-10T00:00:00Z",
        "idempotencyKey": key,
    }


def _where(store: Store) -> dict[str, str]:
    """Each stored key and the partition holding it."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT idempotency_key, tableoid::regclass::text FROM events"))
        return dict(rows.all())


def test_an_event_is_stored_in_the_partition_of_the_month_it_was_received(pg: Store) -> None:
    assert pg.prepare_partitions(to_micros(JAN)) == [
        "events_y2025m01",
        "events_y2025m02",
        "events_y2025m03",
    ]
    ingest(pg, "acme", [_event("a")], JAN)
    ingest(pg, "acme", [_event("b")], FEB)
    assert _where(pg) == {"a": "events_y2025m01", "b": "events_y2025m02"}


def test_an_event_of_a_month_not_prepared_goes_to_the_default_partition(pg: Store) -> None:
    ingest(pg, "acme", [_event("a")], JAN)
    assert _where(pg) == {"a": "events_default"}


def test_a_month_the_default_partition_holds_rows_of_is_left_there(pg: Store) -> None:
    ingest(pg, "acme", [_event("a")], JAN)
    assert pg.prepare_partitions(to_micros(JAN)) == ["events_y2025m02", "events_y2025m03"]
    assert _where(pg) == {"a": "events_default"}


def test_a_key_is_stored_once_whatever_the_month(pg: Store) -> None:
    pg.prepare_partitions(to_micros(JAN))
    ingest(pg, "acme", [_event("a")], JAN)
    again = ingest(pg, "acme", [_event("a"), _event("a", quantity="2")], FEB)
    assert [r.status for r in again.results] == ["duplicate", "conflict"]
    assert _where(pg) == {"a": "events_y2025m01"}


def test_the_worker_prepares_the_partitions_of_its_clock(pg: Store) -> None:
    worker = EventPartitionsWorker(pg, FrozenClock(datetime(2031, 11, 5, tzinfo=UTC)))
    assert worker.run_once() == ["events_y2031m11", "events_y2031m12", "events_y2032m01"]
    assert worker.run_once() == []


def test_sqlite_has_no_partitions(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    store = open_store("sqlite", request, tmp_path)
    assert store.prepare_partitions(to_micros(JAN)) == []
    store.close()


def test_the_migration_moves_a_ledger_into_its_months(pg_server: PostgresServer) -> None:
    engine = create_engine(pg_server.create_database(f"m_{uuid.uuid4().hex[:12]}"))
    migrate.upgrade(engine, "0013")  # main's head before the tenant-first keys
    with engine.begin() as conn:
        for key, received in (("a", JAN), ("b", FEB), ("c", FEB)):
            conn.execute(
                text(
                    "INSERT INTO events (tenant_id, idempotency_key, metric, customer_ref,"
                    " quantity, ts_us, received_us, fingerprint, late, late_after_close)"
                    " VALUES ('acme', :k, 'calls', 'c', 1, 0, :r, 'f', false, false)"
                ),
                {"k": key, "r": to_micros(received)},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        placed: dict[str, str] = dict(
            conn.execute(text("SELECT idempotency_key, tableoid::regclass::text FROM events")).all()
        )
        keys = conn.execute(text("SELECT count(*) FROM event_keys")).scalar_one()
        next_seq = conn.execute(text("SELECT nextval('events_seq_seq')")).scalar_one()
    engine.dispose()
    assert placed == {"a": "events_y2025m01", "b": "events_y2025m02", "c": "events_y2025m02"}
    assert (keys, next_seq) == (3, 4)
