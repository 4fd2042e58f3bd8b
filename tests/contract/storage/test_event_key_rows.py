"""Events found by their keys (ADR 0981): on PostgreSQL each row of ``event_keys`` names its
event's row (``seq``, ``received_us``) and the partitioned ledger keeps no index of its keys,
so the lookups by key (reads, voids, late marks) go through ``event_keys``; SQLite keeps its
unique key on ``events``. Migration 0018 fills the names of an existing ledger's keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage import migrate
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store
from tests.contract.storage.test_group_deferred_writes import as_committer
from tests.support.ledger import ingest, make_tenant
from tests.support.postgres import PostgresServer

JAN = datetime(2025, 1, 16, 12, tzinfo=UTC)
FEB = datetime(2025, 2, 3, 12, tzinfo=UTC)
APR = datetime(2025, 4, 9, 12, tzinfo=UTC)  # no partition prepared: the default one
METRIC = [{"code": "calls", "aggregation": "sum"}]


def _event(key: str, quantity: str, at: datetime = JAN) -> dict[str, object]:
    """An event timed an hour before it is received (never late)."""
    return {
        "metric": "calls",
        "customerRef": "c",
        "quantity": quantity,
        "ts": at.replace(hour=at.hour - 1).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "idempotencyKey": key,
    }


def _months(store: Store) -> dict[str, datetime]:
    """Three events, each received in another month (on PostgreSQL: another partition)."""
    make_tenant(store, "acme", JAN, METRIC)
    store.prepare_partitions(to_micros(JAN))
    received = {"a": JAN, "b": FEB, "c": APR}
    for n, (key, at) in enumerate(received.items()):
        ingest(store, "acme", [_event(key, str(n + 1), at)], at)
    return received


def _key_index_columns(store: Store) -> list[list[str | None]]:
    """The column lists of the indexes and unique constraints on ``events`` that start with
    the tenant and the key."""
    with store.engine.connect() as conn:
        found = inspect(conn)
        listed = [i["column_names"] for i in found.get_indexes("events")]
        listed += [u["column_names"] for u in found.get_unique_constraints("events")]
    return [c for c in listed if c[:2] == ["tenant_id", "idempotency_key"]]


def test_only_sqlite_keeps_an_index_of_the_ledgers_keys(store: Store) -> None:
    expected = [] if store.dialect == "postgresql" else [["tenant_id", "idempotency_key"]]
    assert _key_index_columns(store) == expected


def test_events_are_read_voided_and_flagged_by_key_in_every_month(store: Store) -> None:
    received = _months(store)
    with store.unit_of_work("acme") as uow:
        found = {key: uow.events.get(key) for key in ("a", "b", "c", "missing")}
        uow.events.void_many(["a", "c"], 77)
        uow.events.mark_late(["b"])
        uow.events.mark_late_after_close(["c"])
        uow.commit()
    assert found["missing"] is None
    assert {k: (e.quantity, e.received_us) for k, e in found.items() if e is not None} == {
        key: (Decimal(n + 1), to_micros(at)) for n, (key, at) in enumerate(received.items())
    }
    with store.unit_of_work("acme", read_only=True) as uow:
        after = {key: uow.events.get(key) for key in received}
    flags = {k: (e.voided_us, e.late, e.late_after_close) for k, e in after.items() if e}
    assert flags == {"a": (77, False, False), "b": (None, True, False), "c": (77, False, True)}


def test_a_key_is_found_only_in_its_own_tenant(store: Store) -> None:
    _months(store)
    make_tenant(store, "other", JAN, METRIC)
    ingest(store, "other", [_event("a", "9")], JAN)
    with store.unit_of_work("other") as uow:
        uow.events.void("a", 5)
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        mine = uow.events.get("a")
    with store.unit_of_work("other", read_only=True) as uow:
        theirs = uow.events.get("a")
    assert mine is not None and theirs is not None
    assert (mine.quantity, mine.voided_us, theirs.quantity, theirs.voided_us) == (
        Decimal(1),
        None,
        Decimal(9),
        5,
    )


def _named_rows(store: Store) -> list[tuple[str, bool]]:
    """Each key of ``event_keys`` and whether its row names its event's row."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.idempotency_key, e.seq IS NOT NULL FROM event_keys k "
                "LEFT JOIN events e ON e.tenant_id = k.tenant_id AND e.seq = k.seq "
                "AND e.received_us = k.received_us AND e.idempotency_key = k.idempotency_key "
                "ORDER BY 1"
            )
        )
        return [(r[0], r[1]) for r in rows]


def test_both_ledger_inserts_name_each_events_row(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg = open_store("postgres", request, tmp_path)  # SQLite has no ``event_keys``
    make_tenant(pg, "acme", JAN, METRIC)
    ingest(pg, "acme", [_event("plain-1", "1"), _event("plain-2", "2")], JAN)
    with pg.unit_of_work("acme") as uow:  # the group committer's deferred insert
        as_committer(uow, FrozenClock(JAN), [_event("group-1", "3"), _event("group-2", "4")])
        uow.commit()
    named = _named_rows(pg)
    pg.close()
    assert named == [
        ("group-1", True),
        ("group-2", True),
        ("plain-1", True),
        ("plain-2", True),
    ]


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_migration_names_the_stored_events_and_drops_the_key_index(
    pg_server: PostgresServer,
) -> None:
    url = pg_server.create_database(f"m_{uuid.uuid4().hex[:12]}")
    engine = create_engine(url)
    migrate.upgrade(engine, "0017")
    with engine.begin() as conn:
        for key, at in (("a", JAN), ("b", FEB)):
            conn.execute(
                text(
                    "INSERT INTO events (tenant_id, idempotency_key, metric, customer_ref,"
                    " quantity, ts_us, received_us, fingerprint, late, late_after_close)"
                    " VALUES ('acme', :k, 'calls', 'c', 1, 0, :r, 'f', false, false)"
                ),
                {"k": key, "r": to_micros(at)},
            )
        # a key whose event's month was archived (its row no longer in ``events``)
        for key in ("a", "b", "archived"):
            conn.execute(
                text("INSERT INTO event_keys VALUES ('acme', :k, 'f')"),
                {"k": key},
            )
    migrate.upgrade(engine)
    store = Store(url, pool_size=1)
    try:
        named = _named_rows(store)
        indexes = _key_index_columns(store)
        with store.unit_of_work("acme", read_only=True) as uow:
            found = {key: uow.events.get(key) for key in ("a", "b", "archived")}
    finally:
        store.close()
    assert named == [("a", True), ("archived", False), ("b", True)]
    assert indexes == []
    assert {k: e.received_us if e else None for k, e in found.items()} == {
        "a": to_micros(JAN),
        "b": to_micros(FEB),
        "archived": None,
    }
    _downgrade(engine, "0017")
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("event_keys")]
        key_index = [
            i["column_names"]
            for i in inspect(conn).get_indexes("events")
            if i["name"] == "ix_events_tenant_key"
        ]
    engine.dispose()
    assert (columns, key_index) == (
        ["tenant_id", "idempotency_key", "fingerprint"],
        [["tenant_id", "idempotency_key"]],
    )
