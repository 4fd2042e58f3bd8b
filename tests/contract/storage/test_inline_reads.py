"""Reads run on the event loop (ADR 0961): SQLite's loop connections never wait for a lock
(a read that would wait is handed back, to run on a worker thread), read what is committed,
and PostgreSQL has none."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import read_inline
from stripemeter_server.storage.unit_of_work import Store

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def _tenant_known(uow: UnitOfWork) -> bool:
    return uow.tenants.get("acme") is not None


def _add_tenant(store: Store) -> None:
    with store.unit_of_work("") as uow:
        uow.tenants.add(TenantRecord("acme", None, False, to_micros(NOW)))
        uow.commit()


@pytest.fixture
def holder(store: Store) -> Iterator[sqlite3.Connection | None]:
    """On SQLite, a connection holding the file's exclusive lock (``None`` on PostgreSQL)."""
    if store.dialect != "sqlite":
        yield None
        return
    held = sqlite3.connect(store.engine.url.database or "", isolation_level=None)
    held.execute("PRAGMA locking_mode=EXCLUSIVE")
    held.execute("BEGIN EXCLUSIVE")
    yield held
    held.close()


def test_an_inline_read_reads_what_is_committed_on_sqlite_only(store: Store) -> None:
    assert read_inline(store, "acme", _tenant_known) == ((False,) if store.loop_engine else None)
    _add_tenant(store)
    found = read_inline(store, "acme", _tenant_known)
    assert found == ((True,) if store.dialect == "sqlite" else None)


def test_the_loop_connection_never_waits_and_holds_no_transaction(store: Store) -> None:
    opened = store.inline_read("acme")
    if store.dialect != "sqlite":
        assert opened is None
        return
    assert opened is not None
    with opened as uow:
        assert uow.connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 0
        assert uow.connection.connection.dbapi_connection.in_transaction is False  # type: ignore[union-attr]


def _no_counters(uow: UnitOfWork) -> bool:
    """A read on the driver's own cursor (``DriverStatement``): current usage's statement."""
    return uow.current_reads.current_inputs("cus_a", to_micros(NOW)).counters == []


@pytest.mark.parametrize("use_case", [_tenant_known, _no_counters])
def test_a_read_that_meets_a_lock_is_handed_back_and_the_next_one_reads(
    store: Store, holder: sqlite3.Connection | None, use_case: Callable[[UnitOfWork], bool]
) -> None:
    assert read_inline(store, "acme", use_case) is None  # locked (SQLite), or none at all
    if holder is not None:
        holder.close()
        assert read_inline(store, "acme", use_case) == (use_case is _no_counters,)


def test_a_use_cases_own_error_reaches_the_caller(store: Store) -> None:
    def failing(uow: UnitOfWork) -> None:
        raise LookupError("not this one")

    if store.dialect != "sqlite":
        assert read_inline(store, "acme", failing) is None
        return
    with pytest.raises(LookupError):
        read_inline(store, "acme", failing)
    assert read_inline(store, "acme", _tenant_known) == (False,)  # the connection still serves


def test_a_one_statement_read_takes_no_pooled_connection(store: Store) -> None:
    """ADR 0971: current usage's statement runs on the loop thread's own driver connection;
    SQLAlchemy's loop engine is asked only when a use case needs it."""
    if store.loop_engine is None:
        return
    taken: list[object] = []

    def checkout(*_: object) -> None:
        taken.append(_)

    event.listen(store.loop_engine, "checkout", checkout)
    try:
        assert read_inline(store, "acme", _no_counters) == (True,)
        assert taken == []
        assert read_inline(store, "acme", _tenant_known) == (False,)  # through SQLAlchemy
        assert len(taken) == 1
    finally:
        event.remove(store.loop_engine, "checkout", checkout)
