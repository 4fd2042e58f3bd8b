"""The b-tree cost tool (``benchmarks/btrees.py``, ADR 0972) times the server's layout: its
scratch tables have the migrated store's columns and keys, and every layout it compares
stores every event and counts it once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks import btrees
from stripemeter_server.storage.unit_of_work import Store


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_the_scratch_tables_have_the_servers_columns(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'server.db'}")
    store.migrate()
    store.close()
    server = sqlite3.connect(tmp_path / "server.db")
    scratch = btrees.Scratch(tmp_path / "scratch.db", {"base"})
    for table in ("events", "counters", "customers"):
        assert _columns(scratch.conn, table) == _columns(server, table)
    indexed = {row[1] for row in server.execute("PRAGMA index_list(events)")}
    assert "ix_events_tenant_metric_customer_ts" in indexed  # the index ``nomcts`` drops
    server.close()
    scratch.conn.close()


@pytest.mark.parametrize("layout", ["base", "cw-uw", "ew", "cl", "nomcts", "nouq", "sorted"])
def test_every_layout_stores_and_counts_each_event_once(tmp_path: Path, layout: str) -> None:
    scratch = btrees.Scratch(tmp_path / "scratch.db", set(layout.split("-")))
    for first in range(0, 3 * btrees.BATCH, btrees.BATCH):
        scratch.batch(scratch.rows(first))
    conn = scratch.conn
    ((events, seqs, low, high),) = conn.execute(
        "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM events"
    ).fetchall()
    assert (events, seqs, low, high) == (1500, 1500, 1, 1500)  # numbered without gaps
    ((counted,),) = conn.execute("SELECT sum(count) FROM counters").fetchall()
    assert counted == 1500  # every event counted once
    assert scratch.wal_frames() >= 0
    conn.close()
