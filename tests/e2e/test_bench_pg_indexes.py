"""The PostgreSQL index cost tool (``benchmarks/pg_indexes.py``, ADR 0981) runs the branch
point's ledger insert on a store at revision 0017 and today's on the migrated copy: each
layout stores every event of its batches and writes WAL for them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from benchmarks import pg_indexes
from tests.support.postgres import PostgresServer


@pytest.fixture
def filled(pg_server: PostgresServer) -> PostgresServer:
    pg_indexes._fill(pg_server, 1000, datetime.now(UTC))
    return pg_server


def test_the_branch_points_insert_fills_the_ledger_and_its_keys(filled: PostgresServer) -> None:
    engine = create_engine(filled.url("ledger_template"))
    with engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("events", "event_keys")
        ]
    engine.dispose()
    filled.drop_database("ledger_template")
    assert counts == [1000, 1000]


@pytest.mark.parametrize("layout", ["0017", "0018", "nomcts", "noek", "mctsc", "mcts3"])
def test_every_layout_runs_its_insert(filled: PostgresServer, layout: str) -> None:
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    try:
        cpu, wal, pages = pg_indexes._run(filled, layout, 2, f"t{layout}", now_us)
    finally:
        filled.drop_database("ledger_template")
    assert cpu >= 0 and pages >= 0
    assert wal > 0  # 1000 events written
