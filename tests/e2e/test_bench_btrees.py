"""The b-tree cost tool (``benchmarks/btrees.py``, ADR 0972) times the server's layout: its
scratch tables have the migrated store's columns and keys, and every layout it compares
stores every event and counts it once."""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path

import pytest

from benchmarks import btrees, btrees_reads
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


_LAYOUTS = [
    "base",
    "cw-uw",
    "ew",
    "cl",
    "nomcts",
    "nouq",
    "sorted",
    "defer",
    "defer-tail",
    "side",
    "side-tail",
]


@pytest.mark.parametrize("layout", _LAYOUTS)
def test_every_layout_stores_and_counts_each_event_once(tmp_path: Path, layout: str) -> None:
    scratch = btrees.Scratch(tmp_path / "scratch.db", set(layout.split("-")), defer=1000)
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


def _indexed(scratch: btrees.Scratch) -> int:
    if "side" in scratch.layout:
        ((count, distinct),) = scratch.conn.execute(
            "SELECT count(*), count(DISTINCT seq) FROM ev_cust"
        ).fetchall()
        assert count == distinct  # no row indexed twice
        return int(count)
    ((count,),) = scratch.conn.execute(
        "SELECT count(*) FROM events NOT INDEXED WHERE indexed = 1"
    ).fetchall()
    return int(count)


@pytest.mark.parametrize("layout", ["defer", "defer-tail", "side", "side-tail"])
def test_a_deferred_layout_reads_exactly_with_any_tail(tmp_path: Path, layout: str) -> None:
    """The indexer indexes every row up to the newest, once; a per-customer read (indexed
    part and unindexed tail) equals a scan of the ledger whatever the tail's size."""
    scratch = btrees.Scratch(tmp_path / "scratch.db", set(layout.split("-")), size=300)
    scratch.defer = 1200
    batches = [scratch.rows(first) for first in range(0, 3000, 300)]
    seen = collections.Counter(row[2] for rows in batches for row in rows)
    customers = [customer for customer, _ in seen.most_common(40)]  # in several batches
    keys = btrees_reads.keys(btrees.TENANT, btrees.METRIC, customers, 0, 1 << 62, 40)
    keys += btrees_reads.keys(
        btrees.TENANT, btrees.METRIC, customers, btrees.PERIOD, 5 * 10**11, 40
    )
    tails, found = set(), 0
    for number, rows in enumerate(batches, 1):
        scratch.batch(rows)
        tails.add(scratch.pending)
        assert _indexed(scratch) == number * 300 - scratch.pending
        for key in keys:
            answer = btrees_reads.answer(scratch.conn, scratch.layout, key)
            assert answer == btrees_reads.unindexed(scratch.conn, key)
            found += answer[0]
    assert tails == {0, 300, 600, 900}  # read with the tail empty and at every size between
    assert found > 0
    scratch.conn.close()
