"""What each b-tree a batch writes costs on SQLite, layout by layout (ADR 0972).

Usage: ``python -m benchmarks.btrees [--events 200000] [--batches 200] [--size 500]
LAYOUT ...``

A scratch SQLite file with the server's ledger, counters and customers columns and pragmas
(WAL, ``synchronous=NORMAL``, 16 MiB of page cache), filled with ``--events`` events over
10 000 customers, then ``--batches`` transactions of ``--size`` (500) new events, each
running the statements a batch runs (the keys' fingerprints, the customers, the counters read, the
numbered ledger insert, the counters written back by rowid or key, the commit; a PASSIVE
checkpoint every 20 transactions, as the store's thread would). It prints the process's CPU
per event and the WAL frames (pages written) per transaction. Each layout is a
``-``-joined set of changes from today's schema:

``nomcts`` no metric/customer/ts index (what it costs; every per-customer read needs it),
``nouq`` no idempotency-key index (the same; the fingerprint read is then skipped),
``cw`` / ``uw`` / ``ew`` counters / customers / events ``WITHOUT ROWID`` (events keyed
``(tenant_id, seq)``, numbered from the tenant's ``max(seq)``),
``cl`` events ``WITHOUT ROWID`` clustered by ``(tenant_id, metric, customer_ref, ts_us,
seq)``, with a ``(tenant_id, seq)`` index instead of the metric/customer/ts one,
``sorted`` a batch's rows inserted in the index's order, ``ps1k`` / ``ps2k`` / ``ps8k``
another page size, ``bigcache`` 256 MiB of page cache, ``ck5`` / ``ck100`` a checkpoint
every 5 / 100 transactions. ``base`` is today's schema.

The metric/customer/ts index deferred (ADR 0980): new rows are not indexed at insert; an
indexer, on the writer, indexes every row up to the newest in one transaction each
``--defer`` events (and moves a watermark row), timed with the batches so that its cost is
counted per event. ``defer`` keeps the index as a partial one ``WHERE indexed = 1`` over a
new column the insert leaves at 0 and the indexer sets (one row rewrite per event, in
``seq`` order); ``side`` moves it to a ``WITHOUT ROWID`` side table keyed ``(tenant_id,
metric, customer_ref, ts_us, seq)`` that the indexer fills in key order (no row rewrite);
``defer-tail`` adds a partial index ``WHERE indexed = 0`` (the unindexed rows alone, a
small b-tree) that the reads take instead of scanning the tail by ``seq``; ``side-tail``
writes the new rows' keys to a second, small side table at insert, which the indexer
moves (already in key order) to the big one. With
``--reads N`` each layout also times N per-customer reads (``btrees_reads.py``) with the
tail at its largest, just before an indexer run, their answers checked against a scan.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import btrees_reads

TENANT = "default"
METRIC = "bench_sum"
PERIOD = 1_796_083_200_000_000
CUSTOMERS = [f"cus_bench_{i:05d}" for i in range(10_000)]
BATCH = 500
DEFER = 20_000
_STATE = (
    "period_end_us=?, count=?, sum=?, max=?, min=?, latest_value=?, latest_ts_us=?, "
    "latest_key=?, unique_count=?, adjustments=?, late_out=?, watermark_us=?, late_count=?, "
    "updated_us=?"
)
_EVENT_COLUMNS = (
    "seq, tenant_id, idempotency_key, metric, customer_ref, quantity, ts_us, received_us, "
    "resource_id, meta, fingerprint, late, late_after_close, voided_us, request_id, backfill_id"
)


def _schema(layout: set[str]) -> str:
    """Today's tables (migration 0017), changed as ``layout`` says."""
    clustered = "cl" in layout
    key = "tenant_id, metric, customer_ref, ts_us, seq" if clustered else "tenant_id, seq"
    unique = "" if "nouq" in layout else ", UNIQUE (tenant_id, idempotency_key)"

    def without_rowid(flag: bool) -> str:
        return "WITHOUT ROWID" if flag else ""

    second = ""
    flag = ""
    if clustered:
        second = "CREATE INDEX ix_seq ON events (tenant_id, seq);"
    elif "defer" in layout:
        flag = " indexed BOOL NOT NULL DEFAULT 0,"
        second = (
            "CREATE INDEX ix_mcts ON events (tenant_id, metric, customer_ref, ts_us) "
            "WHERE indexed = 1;"
        )
        if "tail" in layout:
            second += (
                "CREATE INDEX ix_tail ON events (tenant_id, metric, customer_ref, ts_us) "
                "WHERE indexed = 0;"
            )
    elif "side" in layout:
        second = (
            "CREATE TABLE ev_cust (tenant_id TEXT NOT NULL, metric TEXT NOT NULL, "
            "customer_ref TEXT NOT NULL, ts_us INT NOT NULL, seq INT NOT NULL, "
            "PRIMARY KEY (tenant_id, metric, customer_ref, ts_us, seq)) WITHOUT ROWID;"
        )
        if "tail" in layout:
            second += second.replace("ev_cust", "ev_tail")
    elif "nomcts" not in layout:
        second = "CREATE INDEX ix_mcts ON events (tenant_id, metric, customer_ref, ts_us);"
    if layout & {"defer", "side"}:
        second += "CREATE TABLE ix_watermark (tenant_id TEXT PRIMARY KEY, seq INT NOT NULL);"
    return f"""
CREATE TABLE events (seq INTEGER NOT NULL, tenant_id TEXT NOT NULL,
 idempotency_key TEXT NOT NULL, metric TEXT NOT NULL, customer_ref TEXT NOT NULL,
 quantity TEXT NOT NULL, ts_us INT NOT NULL, received_us INT NOT NULL, resource_id TEXT,
 meta TEXT, fingerprint TEXT NOT NULL, late BOOL NOT NULL, late_after_close BOOL NOT NULL,
 voided_us INT, request_id TEXT, backfill_id TEXT,{flag} PRIMARY KEY ({key}){unique})
 {without_rowid("ew" in layout or clustered)};
{second}
CREATE TABLE counters (tenant_id TEXT NOT NULL, metric TEXT NOT NULL,
 customer_ref TEXT NOT NULL, period_start_us INT NOT NULL, period_end_us INT NOT NULL,
 count INT NOT NULL, sum TEXT NOT NULL, max TEXT, min TEXT, latest_value TEXT,
 latest_ts_us INT, latest_key TEXT, unique_count INT NOT NULL, adjustments TEXT NOT NULL,
 late_out TEXT NOT NULL, watermark_us INT, late_count INT NOT NULL, updated_us INT NOT NULL,
 PRIMARY KEY (tenant_id, metric, customer_ref, period_start_us)) {without_rowid("cw" in layout)};
CREATE INDEX ix_cc ON counters (tenant_id, customer_ref, period_start_us);
CREATE TABLE customers (tenant_id TEXT NOT NULL, customer_ref TEXT NOT NULL,
 stripe_customer_id TEXT, anchor_day INT, timezone TEXT, created_us INT NOT NULL,
 updated_us INT NOT NULL, PRIMARY KEY (tenant_id, customer_ref)) {without_rowid("uw" in layout)};
"""


class Scratch:
    """One layout's scratch store and the statements of a batch on it."""

    def __init__(self, path: Path, layout: set[str], size: int = BATCH, defer: int = DEFER) -> None:
        self.layout = layout
        self.size = size
        self.defer = defer
        self.pending = 0  # events not indexed yet (the deferred layouts)
        self.conn = sqlite3.connect(path, isolation_level=None)
        size = {"ps1k": 1024, "ps2k": 2048, "ps8k": 8192}
        page = next((size[x] for x in layout if x in size), 4096)
        cache = -262_144 if "bigcache" in layout else -16_384
        for pragma in (f"page_size={page}", "journal_mode=WAL", "synchronous=NORMAL"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(f"PRAGMA cache_size={cache}")
        self.conn.executescript(_schema(layout))
        self.every = 5 if "ck5" in layout else 100 if "ck100" in layout else 20
        self.commits = 0
        self.rng = random.Random(1)
        self.conn.execute("BEGIN")
        self.conn.executemany(
            "INSERT INTO customers VALUES (?, ?, NULL, NULL, NULL, 1, 1)",
            [(TENANT, c) for c in CUSTOMERS],
        )
        self.conn.executemany(
            "INSERT INTO counters VALUES (?, ?, ?, ?, ?, 0, '0', '0', '0', '0', 1, 'k', 0, "
            "'0', '0', 1, 0, 1)",
            [(TENANT, METRIC, c, PERIOD, PERIOD + 1) for c in CUSTOMERS],
        )
        self.conn.execute("COMMIT")

    def rows(self, first: int) -> list[tuple[Any, ...]]:
        """``size`` new events: keys in order (as the load generator's), random customers."""
        rng = self.rng
        out = [
            (
                f"k-{i:08d}",
                METRIC,
                rng.choice(CUSTOMERS),
                f"{rng.randrange(1, 99_999) / 100:.2f}",
                PERIOD + rng.randrange(10**12),
                1,
                f"res_{rng.randrange(10)}",
                None,
                f"{rng.getrandbits(128):032x}",
            )
            for i in range(first, first + self.size)
        ]
        if "sorted" in self.layout:
            out.sort(key=lambda r: (r[1], r[2], r[4]))
        return out

    def batch(self, rows: list[tuple[Any, ...]]) -> None:
        """The statements of one batch, in the pipeline's order, and the commit."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        if "nouq" not in self.layout:
            cur.execute(
                "SELECT e.idempotency_key, e.fingerprint FROM json_each(?) k CROSS JOIN "
                "events e WHERE e.tenant_id = ? AND e.idempotency_key = k.value",
                (json.dumps([r[0] for r in rows]), TENANT),
            ).fetchall()
        refs = json.dumps(sorted({r[2] for r in rows}))
        cur.execute(
            "SELECT c.customer_ref, c.stripe_customer_id, c.anchor_day, c.timezone FROM "
            "json_each(?) k CROSS JOIN customers c WHERE c.tenant_id = ? "
            "AND c.customer_ref = k.value",
            (refs, TENANT),
        ).fetchall()
        found = cur.execute(
            f"SELECT {'0' if 'cw' in self.layout else 'c.rowid'}, c.customer_ref, "
            "c.period_end_us, c.count, c.sum, c.max, c.min, c.latest_value, c.latest_ts_us, "
            "c.latest_key, c.unique_count, c.adjustments, c.late_out, c.watermark_us, "
            "c.late_count FROM json_each(?) k CROSS JOIN counters c WHERE c.tenant_id = ? "
            "AND c.metric = ? AND c.customer_ref = k.value AND c.period_start_us = ?",
            (refs, TENANT, METRIC, PERIOD),
        ).fetchall()
        self._insert(cur, rows)
        per_customer = collections.Counter(r[2] for r in rows)
        self._write_back(cur, [(*r[:3], r[3] + per_customer[r[1]]) for r in found])
        cur.execute("COMMIT")
        self.commits += 1
        if self.commits % self.every == 0:
            cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.pending += len(rows)
        if self.pending >= self.defer and self.layout & {"defer", "side"}:
            self.index()

    def index(self) -> None:
        """The deferred layouts' indexer: every row past the watermark indexed, and the
        watermark moved, in one transaction (as a writer's step between groups would)."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        (low,) = cur.execute(
            "SELECT coalesce(max(seq), 0) FROM ix_watermark WHERE tenant_id = ?", (TENANT,)
        ).fetchone()
        (high,) = cur.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
        if "defer" in self.layout:
            cur.execute("UPDATE events SET indexed = 1 WHERE rowid > ? AND rowid <= ?", (low, high))
        elif "tail" in self.layout:
            cur.execute("INSERT INTO ev_cust SELECT * FROM ev_tail WHERE seq <= ?", (high,))
            cur.execute("DELETE FROM ev_tail WHERE seq <= ?", (high,))
        else:
            cur.execute(
                "INSERT INTO ev_cust SELECT tenant_id, metric, customer_ref, ts_us, seq "
                "FROM events WHERE rowid > ? AND rowid <= ? ORDER BY 1, 2, 3, 4, 5",
                (low, high),
            )
        cur.execute(
            "INSERT INTO ix_watermark VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE "
            "SET seq = excluded.seq",
            (TENANT, high),
        )
        cur.execute("COMMIT")
        self.pending = 0

    def _insert(self, cur: sqlite3.Cursor, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * 12)
        tail = "0, 0, NULL, 'req', NULL) ON CONFLICT DO NOTHING"
        if self.layout & {"ew", "cl"}:
            (last,) = cur.execute(
                "SELECT max(seq) FROM events WHERE tenant_id = ?", (TENANT,)
            ).fetchone()
            cur.executemany(
                f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({marks[3:]}, {tail}",
                [(n, TENANT, *r) for n, r in enumerate(rows, (last or 0) + 1)],
            )
            return
        (last,) = cur.execute("SELECT max(rowid) FROM events").fetchone()
        cur.executemany(
            f"INSERT INTO events (rowid, {_EVENT_COLUMNS}) VALUES ({marks}, {tail}",
            [(n, n, TENANT, *r) for n, r in enumerate(rows, (last or 0) + 1)],
        )
        if self.layout >= {"side", "tail"}:  # the new rows' keys, in a small b-tree
            cur.execute(
                "INSERT INTO ev_tail SELECT tenant_id, metric, customer_ref, ts_us, seq "
                "FROM events WHERE rowid > ?",
                (last or 0,),
            )

    def _write_back(self, cur: sqlite3.Cursor, found: list[tuple[Any, ...]]) -> None:
        """Every counter read written back whole (the count is the new one; the other state
        columns a stand-in of the same width)."""

        def state(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return (row[2], row[3], "12.34", "1", "1", "1", 5, "k", 0, "0", "0", 5, 0, 7)

        key = "tenant_id = ? AND metric = ? AND customer_ref = ? AND period_start_us = ?"
        if "cw" in self.layout:
            cur.executemany(
                f"UPDATE counters SET {_STATE} WHERE {key}",
                [(*state(r), TENANT, METRIC, r[1], PERIOD) for r in found],
            )
        else:
            cur.executemany(
                f"UPDATE counters SET {_STATE} WHERE rowid = ? AND {key}",
                [(*state(r), r[0], TENANT, METRIC, r[1], PERIOD) for r in found],
            )

    def wal_frames(self) -> int:
        """The WAL's pages now (a PASSIVE checkpoint's answer), then copied back."""
        return int(self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def measure(
    layout: str, events: int, batches: int, size: int = BATCH, defer: int = DEFER, reads: int = 0
) -> str:
    """Fill a scratch store, then time ``batches`` transactions of ``size`` events (and the
    deferred layouts' indexer runs among them); one result line."""
    with tempfile.TemporaryDirectory(prefix="btrees-") as workdir:
        scratch = Scratch(Path(workdir) / "store.db", set(layout.split("-")), size, defer)
        for first in range(0, events, size):
            scratch.batch(scratch.rows(first))
        scratch.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timed = [scratch.rows(events + size * i) for i in range(batches)]
        before = time.process_time()
        for rows in timed:
            scratch.batch(rows)
        cpu = time.process_time() - before
        # The pages one more transaction writes, counted on its own after a full copy.
        scratch.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        scratch.every = 1 << 30
        scratch.batch(scratch.rows(events + size * batches))
        frames = scratch.wal_frames()
        indexer, read_us = _indexer_frames(scratch, events + size * (batches + 1), reads)
        scratch.conn.close()
    per_event = frames / size + (indexer / defer if indexer else 0)
    return (
        f"{layout:16s} {cpu / (batches * size) * 1e6:6.1f} µs per event, "
        f"{frames} WAL pages per {size}-event transaction"
        + (f" + {indexer} per indexer run of {defer}" if indexer else "")
        + f" ({per_event:.2f} per event)"
        + (f"; {read_us:.0f} µs per customer read" if reads else "")
        + f"; load {os.getloadavg()[0]:.1f}"
    )


def _indexer_frames(scratch: Scratch, first: int, reads: int) -> tuple[int, float]:
    """The WAL pages one indexer run writes, counted on its own after a full copy, once
    ``defer`` events are pending (0 for a layout without one); and the µs per customer
    read, ``reads`` of them timed just before that run (the tail at its largest)."""
    deferred = bool(scratch.layout & {"defer", "side"})
    if deferred:
        scratch.index()
        defer, scratch.defer = scratch.defer, 1 << 40
        while scratch.pending < defer:
            scratch.batch(scratch.rows(first))
            first += scratch.size
    read_us = 0.0
    if reads:
        keys = btrees_reads.keys(TENANT, METRIC, CUSTOMERS, PERIOD, 5 * 10**11, reads)
        read_us = btrees_reads.cost(scratch.conn, scratch.layout, keys)
    if not deferred:
        return 0, read_us
    scratch.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    scratch.index()
    return scratch.wal_frames(), read_us


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.btrees", description=__doc__)
    parser.add_argument("layouts", nargs="+")
    parser.add_argument("--events", type=int, default=200_000, help="ledger before timing")
    parser.add_argument("--batches", type=int, default=200, help="timed transactions")
    parser.add_argument("--size", type=int, default=BATCH, help="events per transaction")
    parser.add_argument("--defer", type=int, default=DEFER, help="events per indexer run")
    parser.add_argument("--reads", type=int, default=0, help="per-customer reads timed")
    args = parser.parse_args(argv)
    for layout in args.layouts:
        line = measure(layout, args.events, args.batches, args.size, args.defer, args.reads)
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
