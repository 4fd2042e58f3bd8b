"""What each structure an ingested event writes costs on PostgreSQL, layout by layout
(ADR 0981).

Usage: ``python -m benchmarks.pg_indexes [--events 200000] [--batches 150] [--rounds 3]
LAYOUT ...``

A throwaway server (fsync on, as the benchmark runs it) and a store migrated to revision 0017,
filled with ``--events`` events of one tenant over 10 000 customers through that revision's
ledger insert, then copied once per layout and round (layouts alternating). Each copy takes
``--batches`` transactions of 500 new events, each the deferred ledger insert a batch sends
with its commit (ADR 0974) and nothing else: the counters a batch writes do not depend on the
ledger's indexes. It prints the backend's CPU per event (``/proc``), the WAL bytes per event
(the insert position) and the full-page images per event (``pg_stat_wal``), medians over the
rounds. Layouts, each a ``-``-joined set of changes:

``0017`` the branch point (``ix_events_tenant_key`` on the ledger), ``0018`` the copy migrated
to head and today's insert (``event_keys`` names each event's row, no key index on the
ledger); on top of 0017, for reference: ``nomcts`` no metric/customer/ts index, ``mctsc`` that
index over ``COLLATE "C"`` columns, ``mcts3`` that index without ``ts_us`` (b-tree
deduplication), ``noek`` no ``event_keys`` at all (the insert without it). A rebuilt index is
packed (90 %) where the filled one is not, so its splits cost it more for a while.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.storage import migrate
from stripemeter_server.storage.postgres import ledger
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import make_tenant
from tests.support.postgres import PostgresServer

TENANT = "default"
METRIC = "bench_sum"
BATCH = 500
_TODAY = ledger._EVENT_INSERT_DEFERRED
_COLUMNS = ", ".join(f"t.{name}" for name in LedgerEntry._fields)
# The insert at revision 0017: ``seq`` from the column's default, the keys without it.
_BEFORE = (
    _TODAY.replace(", nextval('events_seq_seq') AS seq", "")
    .replace(", seq, received_us)", ")")
    .replace(", t.seq, t.received_us FROM t", " FROM t")
    .replace("(tenant_id, seq, ", "(tenant_id, ")
    .replace("SELECT %s, t.seq, ", "SELECT %s, ")
)
_WITHOUT_KEYS = (
    _BEFORE.split(" k AS (")[0].rstrip(",")
    + f" INSERT INTO events (tenant_id, {ledger._EVENT_NAMES}) SELECT %s, {_COLUMNS} FROM t"
)
_MCTS = "ix_events_tenant_metric_customer_ts"
_DDL = {
    "0017": [],
    "0018": [],
    "noek": [],
    "nomcts": [f"DROP INDEX {_MCTS}"],
    "mctsc": [
        f"DROP INDEX {_MCTS}",
        (
            f'CREATE INDEX {_MCTS} ON events (tenant_id COLLATE "C", metric COLLATE "C", '
            'customer_ref COLLATE "C", ts_us)'
        ),
    ],
    "mcts3": [
        f"DROP INDEX {_MCTS}",
        f"CREATE INDEX {_MCTS} ON events (tenant_id, metric, customer_ref)",
    ],
}


def _rows(prefix: str, count: int, now_us: int, rng: random.Random) -> str:
    """``count`` new events as the ledger insert's JSON rows, sorted by key (as ingest does)."""
    rows = [
        LedgerEntry(
            f"{prefix}-{i:07d}",
            METRIC,
            f"cus_bench_{rng.randrange(10_000):05d}",
            Decimal(rng.randrange(1, 100_000)) / 100,
            now_us - rng.randrange(10**12),
            now_us,
            f"res_{rng.randrange(5)}",
            None,
            f"{rng.getrandbits(128):032x}",
            False,
            False,
            None,
            None,
            None,
        )
        for i in range(count)
    ]
    return ledger._json_rows(sorted(rows))


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wal(conn: psycopg.Connection, admin: psycopg.Connection) -> tuple[int, int]:
    """WAL bytes written so far (the insert position) and full-page images (the writer's
    statistics, flushed once it has been idle a second)."""
    time.sleep(1.1)
    conn.execute("SELECT 1")
    conn.commit()
    time.sleep(0.2)
    row = admin.execute(
        "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn, wal_fpi FROM pg_stat_wal"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _fill(server: PostgresServer, events: int, now: datetime) -> None:
    store = Store(server.create_database("ledger_template"), pool_size=1)
    migrate.upgrade(store.engine, "0017")
    make_tenant(store, TENANT, now, metrics=[{"code": METRIC, "aggregation": "sum"}])
    store.close()
    rng = random.Random(1)
    with psycopg.connect(server.admin_url.rsplit("/", 1)[0] + "/ledger_template") as conn:
        for start in range(0, events, 5000):
            rows = _rows(f"pre{start}", min(5000, events - start), to_micros(now), rng)
            conn.execute(_BEFORE, (rows, TENANT, TENANT))
            conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _run(
    server: PostgresServer, layout: str, batches: int, tag: str, now_us: int
) -> tuple[float, float, float]:
    name = f"l_{tag}"
    url = server.create_database(name, template="ledger_template")
    changes = set(layout.split("-"))
    statement, args = _BEFORE, 3
    if "0018" in changes:
        store = Store(url, pool_size=1)
        store.migrate()
        store.close()
        statement = _TODAY
    if "noek" in changes:
        statement, args = _WITHOUT_KEYS, 2
    rng = random.Random(2)
    base = server.admin_url.rsplit("/", 1)[0]
    with (
        psycopg.connect(f"{base}/{name}") as conn,
        psycopg.connect(server.admin_url, autocommit=True) as admin,
    ):
        for change in changes:
            for ddl in _DDL[change]:
                conn.execute(ddl)
        conn.commit()
        admin.execute("CHECKPOINT")
        batches_rows = [_rows(f"new{b}", BATCH, now_us, rng) for b in range(batches)]
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        pid = int(row[0])
        conn.commit()
        (wal0, fpi0), cpu0 = _wal(conn, admin), _cpu(pid)
        for rows in batches_rows:
            conn.execute(statement, (rows, TENANT, TENANT)[:args])
            conn.commit()
        cpu1, (wal1, fpi1) = _cpu(pid), _wal(conn, admin)
    server.drop_database(name)
    n = batches * BATCH
    return (cpu1 - cpu0) / n * 1e6, (wal1 - wal0) / n, (fpi1 - fpi0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("layouts", nargs="+")
    args = parser.parse_args()
    now = datetime.now(UTC)
    server = PostgresServer.start(fsync=True)
    try:
        _fill(server, args.events, now)
        results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in args.layouts}
        for r in range(args.rounds):
            for i, layout in enumerate(args.layouts):
                got = _run(server, layout, args.batches, f"{r}_{i}", to_micros(now))
                results[layout].append(got)
                print(f"round {r} {layout:8s} " + _line(*got), flush=True)
        for layout, got in results.items():
            medians = (statistics.median(g[k] for g in got) for k in range(3))
            print(f"median  {layout:8s} " + _line(*medians))
    finally:
        server.stop()


def _line(cpu: float, wal: float, fpi: float) -> str:
    return f"backend {cpu:5.1f} us/event  WAL {wal:5.0f} B/event  full pages {fpi:5.3f}/event"


if __name__ == "__main__":
    main()
