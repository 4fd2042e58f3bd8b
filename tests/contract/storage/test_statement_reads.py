"""A read that needs no shared snapshot (ADR 0883): on PostgreSQL it runs without a
transaction — each statement in its own, as READ COMMITTED gives each its own snapshot
anyway — while a write, or a read that asks for one, stays one transaction on both stores."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from stripemeter_server.storage.unit_of_work import Store


def _two_statement_times(store: Store, *, read_only: bool, shared_snapshot: bool) -> set[str]:
    """The transaction time seen by two statements 20 ms apart (one value: one transaction)."""
    now = "SELECT now()" if store.dialect == "postgresql" else "SELECT 1"
    with store.unit_of_work(read_only=read_only, shared_snapshot=shared_snapshot) as uow:
        first = uow.connection.execute(text(now)).scalar_one()
        time.sleep(0.02)
        second = uow.connection.execute(text(now)).scalar_one()
    return {str(first), str(second)}


def test_a_read_without_a_shared_snapshot_runs_statement_by_statement(store: Store) -> None:
    seen = _two_statement_times(store, read_only=True, shared_snapshot=False)
    assert len(seen) == (2 if store.dialect == "postgresql" else 1)


def test_a_write_or_a_read_with_a_shared_snapshot_is_one_transaction(store: Store) -> None:
    assert len(_two_statement_times(store, read_only=True, shared_snapshot=True)) == 1
    assert len(_two_statement_times(store, read_only=False, shared_snapshot=False)) == 1


def test_a_read_without_a_shared_snapshot_keeps_its_prepared_statements(store: Store) -> None:
    # psycopg prepares a statement after five executions, and forgets every prepared
    # statement on a rollback: a read ending in one never had its statements prepared.
    for _ in range(40):  # every pooled connection runs it more than five times
        with store.unit_of_work("t", read_only=True, shared_snapshot=False) as uow:
            assert uow.features.get("nothing") is None
    if store.dialect == "postgresql":
        with store.unit_of_work("t", read_only=True, shared_snapshot=False) as uow:
            prepared = uow.connection.execute(
                text("SELECT statement FROM pg_prepared_statements")
            ).scalars()
            assert any("FROM features" in statement for statement in prepared)


def test_a_read_in_a_transaction_keeps_the_connections_prepared_statements(store: Store) -> None:
    # A read ends in COMMIT: a rollback would make psycopg deallocate every statement the
    # connection prepared, its writes' included.
    for _ in range(40):
        with store.unit_of_work("t", read_only=True) as uow:
            assert uow.features.get("nothing") is None
    if store.dialect == "postgresql":
        with store.unit_of_work("t", read_only=True) as uow:
            prepared = uow.connection.execute(
                text("SELECT statement FROM pg_prepared_statements")
            ).scalars()
            assert any("FROM features" in statement for statement in prepared)


def test_a_read_that_fails_still_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.unit_of_work("t", read_only=True) as uow:
        uow.connection.execute(text("SELECT 1"))
        raise RuntimeError("the use case failed")
    with store.unit_of_work("t", read_only=True) as uow:
        assert uow.connection.execute(text("SELECT 1")).scalar_one() == 1
