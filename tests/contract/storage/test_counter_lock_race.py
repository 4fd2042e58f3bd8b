"""A counter another transaction creates while ``lock`` runs is returned as committed.

PostgreSQL's ``lock`` claims its counters with an ``INSERT … ON CONFLICT DO UPDATE`` (ADR
0947). A counter a racing transaction inserted but had not committed when the claim began
is not in the claim's snapshot: the insert waits for the racing transaction, meets its
committed row, and must lock and return that row as committed — not a zero counter, not
nothing. ADR 0979 measured claims that lock the stored counters apart from creating the
missing ones; this is the race such a claim has to get right. SQLite has one writer, so the
race cannot happen there; the lock of stored and missing counters together is in the
repository contract suite, on every store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store

TENANT = "acme"
RACED = ("calls", "cus_1", 100)
STORED = ("calls", "cus_0", 100)


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store("postgres", request, tmp_path)
    with opened.unit_of_work(TENANT) as uow:
        uow.tenants.add(TenantRecord(TENANT, "Acme", False, 1))
        uow.commit()
    yield opened
    opened.close()


def _wait_until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60  # a guard against a hang, not an assertion on timing
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the other transaction neither blocked nor finished")
        time.sleep(0.01)


def _add_one(store: Store, keys: list[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
    """Lock ``keys``, count one more on each, commit; the counts the lock returned."""
    with store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock(dict.fromkeys(keys, 150), 2)
        seen = {key: c.state.count for key, c in locked.items()}
        for counter in locked.values():
            counter.state.count += 1
            counter.state.sum += 1
        uow.counters.save(locked.values(), 2)
        uow.commit()
    return seen


def test_a_counter_created_by_a_racing_transaction_is_locked_as_committed(pg: Store) -> None:
    _add_one(pg, [STORED])
    with pg.unit_of_work(TENANT) as first:
        created = first.counters.lock({RACED: 150}, 1)[RACED]
        created.state.count, created.state.sum = 5, Decimal(5)
        first.counters.save([created], 1)
        with (
            ThreadPoolExecutor(1) as pool,
            psycopg.connect(pg.url.replace("+psycopg", ""), autocommit=True) as admin,
        ):
            other = pool.submit(_add_one, pg, [STORED, RACED])

            def waiting_on_a_lock() -> bool:
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                ).fetchone()
                return bool(row and row[0])

            _wait_until(lambda: other.done() or waiting_on_a_lock())
            assert not other.done(), "the second lock did not wait for the first transaction"
            first.commit()
            seen = other.result()
    with pg.unit_of_work(TENANT, read_only=True) as uow:
        stored = {c.key: (c.state.count, c.state.sum) for c in uow.counters.find()}
    assert seen == {STORED: 1, RACED: 5}
    assert stored == {STORED: (2, Decimal(2)), RACED: (6, Decimal(6))}
