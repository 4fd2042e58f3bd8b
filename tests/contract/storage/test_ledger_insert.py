"""The ledger's bulk insert, for small and large batches: it reports exactly the keys it
stored, on both stores. On PostgreSQL a key already in the ledger — stored by a concurrent
request after the caller checked — is left as it was, never doubled, and the rest of the
batch is stored. (On SQLite the caller's check and the insert share one ``BEGIN IMMEDIATE``
transaction, so no other writer can store a key in between.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.storage.sqlite.ledger import _EVENT_INSERT
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import NOW, open_store
from tests.support.ledger import make_tenant


def _entries(prefix: str, count: int) -> list[LedgerEntry]:
    return [
        LedgerEntry(
            f"{prefix}-{n:04d}",
            "calls",
            f"cus_{n % 7}",
            Decimal("1.25"),
            1_736_000_000_000_000 + n,
            1_736_000_000_000_000,
            None,
            None,
            "f" * 32,
            False,
            False,
            None,
            "req_1",
            None,
        )
        for n in range(count)
    ]


def _insert(store: Store, entries: list[LedgerEntry]) -> set[str]:
    with store.unit_of_work("acme") as uow:
        stored = uow.events.insert_new(entries)
        uow.commit()
    return stored


@pytest.mark.parametrize("size", [3, 70])
def test_every_new_key_is_stored_and_reported(store: Store, size: int) -> None:
    make_tenant(store, "acme", NOW)
    entries = _entries("new", size)
    assert _insert(store, entries) == {e.idempotency_key for e in entries}
    with store.unit_of_work("acme", read_only=True) as uow:
        assert uow.events.fingerprints([e.idempotency_key for e in entries]) == {
            e.idempotency_key: e.fingerprint for e in entries
        }


@pytest.fixture
def pg_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store("postgres", request, tmp_path)
    yield opened
    opened.close()


@pytest.mark.parametrize("size", [3, 70])
def test_keys_stored_by_a_racing_writer_are_left_alone_and_the_rest_stored(
    pg_store: Store,
    size: int,
) -> None:
    store = pg_store
    make_tenant(store, "acme", NOW)
    entries = _entries("race", size)
    first = [entries[1]._replace(fingerprint="a" * 32)]
    assert _insert(store, first) == {entries[1].idempotency_key}
    stored = _insert(store, entries)
    assert stored == {e.idempotency_key for e in entries} - {entries[1].idempotency_key}
    with store.unit_of_work("acme", read_only=True) as uow:
        kept = uow.events.fingerprints([entries[1].idempotency_key])
    assert kept == {entries[1].idempotency_key: "a" * 32}


def test_sqlite_numbers_each_row_from_the_end_of_the_ledger_without_scanning_it(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``seq`` is the next rowid, read as one step to the b-tree's end: a plan that scans
    ``events`` makes every insert grow with the ledger (a batch of 500 took a second at
    16 000 events)."""
    store = open_store("sqlite", request, tmp_path)
    try:
        make_tenant(store, "acme", NOW)
        assert _insert(store, _entries("a", 5)) and _insert(store, _entries("b", 4))
        path = str(store.engine.url.database)
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + _EVENT_INSERT, ("x",) * 15).fetchall()
        steps = [row[3] for row in plan]
        assert not [s for s in steps if s.startswith("SCAN events")], steps
        rows = conn.execute("SELECT rowid, seq FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert rows == [(n, n) for n in range(1, 10)]


def test_sqlite_numbers_a_batch_holding_stored_keys_without_gaps(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A batch is numbered from the end in one step (ADR 0968); a key already stored would
    skip its number, so such a batch goes in again numbered row by row: ``seq`` stays the
    rowid, without gaps, and only the new keys are reported."""
    store = open_store("sqlite", request, tmp_path)
    try:
        make_tenant(store, "acme", NOW)
        entries = _entries("mixed", 6)
        assert _insert(store, [entries[1], entries[4]]) == {
            entries[1].idempotency_key,
            entries[4].idempotency_key,
        }
        stored = _insert(store, entries)
        assert stored == {e.idempotency_key for e in entries} - {
            entries[1].idempotency_key,
            entries[4].idempotency_key,
        }
        assert _insert(store, entries) == set()  # every key stored: nothing goes in
        assert _insert(store, _entries("after", 3)) == {f"after-{n:04d}" for n in range(3)}
        path = str(store.engine.url.database)
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT rowid, seq, idempotency_key FROM events ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    assert [(rowid, seq) for rowid, seq, _ in rows] == [(n, n) for n in range(1, 10)]
    assert [key for *_, key in rows] == [
        "mixed-0001",
        "mixed-0004",
        "mixed-0000",
        "mixed-0002",
        "mixed-0003",
        "mixed-0005",
        "after-0000",
        "after-0001",
        "after-0002",
    ]
