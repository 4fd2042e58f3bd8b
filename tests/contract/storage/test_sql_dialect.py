"""The dialect object the store chose, run against the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

from sqlalchemy import select

from stripemeter_server.storage.schema import tenant_rate_limits
from stripemeter_server.storage.unit_of_work import Store

MS_US = 1_000  # SQLite's 'now' has millisecond precision


def test_the_store_chooses_the_dialect_of_the_database_it_opened(store: Store) -> None:
    assert store.sql_dialect.name == store.engine.dialect.name


def test_the_database_clock_reads_the_time_in_microseconds(store: Store) -> None:
    before_us = time.time_ns() // 1_000
    with store.unit_of_work(read_only=True) as uow:
        clock_us = uow.connection.execute(select(store.sql_dialect.clock_us())).scalar_one()
    after_us = time.time_ns() // 1_000
    assert before_us - MS_US <= int(clock_us) <= after_us + MS_US


def test_a_new_bucket_is_created_full_and_read_with_the_database_clock(store: Store) -> None:
    before_us = time.time_ns() // 1_000
    with store.unit_of_work("acme") as uow:
        bucket = uow.rate_limits.lock(initial_tokens=7.0)
        uow.commit()
    after_us = time.time_ns() // 1_000
    assert bucket.tokens == 7.0
    assert before_us - MS_US <= bucket.now_us <= after_us + MS_US


def test_a_relaxed_commit_still_commits(store: Store) -> None:
    with store.unit_of_work("acme") as uow:
        store.sql_dialect.relax_commit_durability(uow.connection)
        uow.rate_limits.configure(5.0, 10.0)
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        row = uow.connection.execute(select(tenant_rate_limits.c.rate_per_second)).one()
    assert row.rate_per_second == 5.0


def test_an_upsert_updates_the_row_it_conflicts_with(store: Store) -> None:
    for rate in (1.0, 2.0):
        with store.unit_of_work("acme") as uow:
            uow.rate_limits.configure(rate, None)
            uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        assert uow.rate_limits.settings() == (2.0, None)
