"""WAL checkpoints off the request path (ADR 0930): a thread of the store's own copies the
WAL into the database file, stops cleanly, and the writer's own checkpoint stays as a bound."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from stripemeter_server.storage.sqlite.checkpoints import FALLBACK_PAGES, WalCheckpointer
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store

_THREAD = "sqlite-wal-checkpoint"


def _write(store: Store, transactions: int, size: int) -> None:
    """``transactions`` write transactions through the store's own connections."""
    for _ in range(transactions):
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS wal_probe (body BLOB)"))
            conn.execute(text("INSERT INTO wal_probe VALUES (randomblob(:n))"), {"n": size})


def _database(store: Store) -> str:
    database = store.engine.url.database
    assert database is not None
    return database


def _checkpointers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == _THREAD]


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    opened = open_store("sqlite", request, tmp_path)
    request.addfinalizer(opened.close)
    return opened


def test_connections_leave_checkpoints_to_the_thread_up_to_the_bound(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert pages == FALLBACK_PAGES
    assert synchronous == 1  # NORMAL, as before: durability is unchanged


def test_the_thread_checkpoints_the_wal_and_the_next_writer_restarts_it(
    sqlite_store: Store,
) -> None:
    # A day-long tick: every pass below is one this test asked for.
    checkpointer = WalCheckpointer(_database(sqlite_store), interval_seconds=86_400)
    checkpointer.start()
    try:
        checkpointer.next_pass()
        _write(sqlite_store, 50, 8_192)
        after_writes = checkpointer.next_pass()
        _write(sqlite_store, 1, 8_192)
        after_one = checkpointer.next_pass()
    finally:
        checkpointer.stop()
    assert after_writes is not None and after_one is not None
    assert after_writes.busy == 0
    assert after_writes.wal_pages >= 100  # 50 transactions of two pages and more each
    assert after_writes.checkpointed == after_writes.wal_pages  # all of it copied
    assert after_one.wal_pages < after_writes.wal_pages  # restarted from its beginning
    assert after_one.checkpointed == after_one.wal_pages
    assert not checkpointer.running


def test_the_store_starts_and_stops_its_checkpointer(sqlite_store: Store) -> None:
    before = len(_checkpointers())
    sqlite_store.start_upkeep()
    sqlite_store.start_upkeep()  # idempotent: still one thread
    assert len(_checkpointers()) == before + 1
    _write(sqlite_store, 5, 1_024)
    sqlite_store.stop_upkeep()
    assert len(_checkpointers()) == before
    sqlite_store.start_upkeep()  # a stopped store can start again; close stops it too
    assert len(_checkpointers()) == before + 1
    sqlite_store.close()
    assert len(_checkpointers()) == before
    sqlite_store.close()  # twice is harmless


def test_without_the_thread_the_writer_bounds_the_wal(sqlite_store: Store) -> None:
    """No thread (a CLI command): the writer crossing the bound checkpoints, as SQLite did."""
    with sqlite_store.engine.connect() as conn:
        page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    transaction_pages = (1 << 20) // page_size + 16
    written = (FALLBACK_PAGES * page_size * 3) // 2  # one and a half times the bound
    _write(sqlite_store, written // (1 << 20) + 1, 1 << 20)
    wal = Path(_database(sqlite_store) + "-wal")
    assert wal.stat().st_size <= (FALLBACK_PAGES + 2 * transaction_pages) * page_size
    assert wal.stat().st_size < written


def test_upkeep_is_harmless_on_every_store(store: Store) -> None:
    """PostgreSQL has no WAL of ours to checkpoint: starting and stopping do nothing."""
    store.start_upkeep()
    with store.unit_of_work(read_only=True):
        pass
    store.stop_upkeep()
    assert store.readiness()["database"] is True
    assert len(_checkpointers()) == 0
