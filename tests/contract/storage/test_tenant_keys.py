"""Every key of a tenant table starts from the tenant: the schema distributes by `tenant_id`
(Citus requires the distribution column in every primary key and unique constraint), and no
unique rule can ever relate two tenants' rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage import migrate
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import ingest, make_tenant

# Tables that are not tenant data, and may keep keys without ``tenant_id`` (and why):
GLOBAL_KEYS = {
    # Authentication finds a key by its hash before the tenant is known, so the hash is
    # unique across tenants; ``api_keys`` is a reference table on Citus (on every node).
    ("api_keys", ("key_hash",)),
    # Likewise a dashboard session and a portal token are found by their id before their
    # tenant is known (the cookie and the bearer string carry no tenant).
    ("dashboard_sessions", ("session_id",)),
    ("portal_tokens", ("token_id",)),
}
GLOBAL_TABLES = {
    "worker_heartbeats",  # a row per background loop per process, no tenant; local on Citus
    "alembic_version",  # the schema's revision
}


def _keys(store: Store) -> list[tuple[str, str, tuple[str, ...]]]:
    """(table, kind, columns) of every primary key, unique constraint and unique index."""
    inspector = inspect(store.engine)
    found = []
    for table in inspector.get_table_names():
        if table in GLOBAL_TABLES:
            continue
        primary = inspector.get_pk_constraint(table)["constrained_columns"]
        found.append((table, "primary key", tuple(primary)))
        found += [
            (table, "unique", tuple(u["column_names"]))
            for u in inspector.get_unique_constraints(table)
        ]
        found += [
            (table, "unique index", tuple(str(c) for c in i["column_names"]))
            for i in inspector.get_indexes(table)
            if i["unique"]
        ]
    return found


def test_every_key_of_a_tenant_table_includes_the_tenant(store: Store) -> None:
    keys = _keys(store)
    lacking = [
        (table, kind, columns)
        for table, kind, columns in keys
        if "tenant_id" not in columns and (table, columns) not in GLOBAL_KEYS
    ]
    assert lacking == []


def test_the_ledger_is_keyed_by_tenant_then_sequence(store: Store) -> None:
    primary = inspect(store.engine).get_pk_constraint("events")["constrained_columns"]
    assert primary[:2] == ["tenant_id", "seq"]


def test_every_table_has_a_primary_key(store: Store) -> None:
    assert [
        table for table, kind, columns in _keys(store) if kind == "primary key" and not columns
    ] == []


def test_events_take_increasing_sequence_numbers_across_tenants(
    store: Store, clock: FrozenClock
) -> None:
    metric = [{"code": "calls", "aggregation": "sum"}]
    for tenant in ("t_a", "t_b"):
        make_tenant(store, tenant, clock.now(), metric)
    for n in range(3):
        for tenant in ("t_a", "t_b"):
            ingest(store, tenant, [_event(f"k{n}")], clock.now())
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT tenant_id, seq FROM events ORDER BY seq")).all()
    assert [tenant for tenant, _ in rows] == ["t_a", "t_b"] * 3
    assert len({seq for _, seq in rows}) == 6


def _event(key: str) -> dict[str, object]:
    return {
        "metric": "calls",
        "customerRef": "c",
        "quantity": "1",
        "ts": "2025-01-10T00:00:00Z",
        "idempotencyKey": key,
    }


def test_sqlite_keeps_numbering_after_the_last_sequence_of_a_migrated_ledger(
    tmp_path: Path, clock: FrozenClock
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0013")  # main's head before the tenant-first keys
    with engine.begin() as conn:
        for seq, key in ((5, "old-a"), (9, "old-b")):
            conn.execute(
                text(
                    "INSERT INTO events (seq, tenant_id, idempotency_key, metric, customer_ref,"
                    " quantity, ts_us, received_us, fingerprint, late, late_after_close)"
                    " VALUES (:seq, 't_a', :key, 'calls', 'c', '1', 0, 0, 'f', 0, 0)"
                ),
                {"seq": seq, "key": key},
            )
    engine.dispose()
    store = Store(url)
    store.migrate()
    make_tenant(store, "t_a", clock.now(), [{"code": "calls", "aggregation": "sum"}])
    ingest(store, "t_a", [_event("new")], clock.now())
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT idempotency_key, seq, rowid FROM events")).all()
    store.close()
    assert sorted(rows) == [("new", 10, 10), ("old-a", 5, 5), ("old-b", 9, 9)]
