"""A rebuild at ~1M events on one store, without the HTTP server (issue 19, ADR 0870/0892).

Usage: ``python -m benchmarks.rebuild [--database sqlite|postgres] [--events 1000000]
[--customers 10000] [--days 60] [--repeat 2] [--url URL] [--keep] [--explain] [--analyze]``

Fills a fresh store's ledger in bulk (``COPY`` / ``executemany``; one in a hundred events
flagged late) and computes reference counters with the row-by-row fold (the path the
property tests hold equal to live ingest), then rebuilds the sum metric ``--repeat`` times
through ``rebuild_metric`` in one unit of work each, timed around the call and its commit.
Every rebuild's counters are compared with those before it (exact: every column but
``updated_us``), so the first with the reference.
Each line gives wall events/s, this process's CPU and, on PostgreSQL, the server's CPU in
the same interval, and the load average, since the machine is shared. ``--url`` reuses a
filled store (no fill); ``--keep`` leaves the filled store (a throwaway PostgreSQL running)
and prints its URL, so rebuilds can be repeated against the same ledger; ``--explain``
prints the plan of the grouped query (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL,
``EXPLAIN QUERY PLAN`` on SQLite) after the timed rebuilds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.proctree import tree_cpu_seconds
from benchmarks.progress import Reporter
from benchmarks.server import Postgres
from benchmarks.workload import customer_ref

METRIC = {
    "code": "bench_sum",
    "aggregation": "sum",
    "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
}


def _rows(n: int, customers: int, days: int, seed: int, offset: int) -> list[tuple[Any, ...]]:
    """``n`` ledger rows at random over the last ``days`` days (several periods per
    customer), received now, one in a hundred flagged late."""
    rng = random.Random(seed)
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    span_us = days * 86_400_000_000
    out = []
    for i in range(offset, offset + n):
        cents = rng.randrange(1, 100_000)
        out.append(
            (
                i + 1,
                "default",
                f"rb-{i:08d}",
                METRIC["code"],
                customer_ref(rng.randrange(customers)),
                f"{cents // 100}.{cents % 100:02d}",
                now_us - 1_000_000 - rng.randrange(span_us),
                now_us,
                "0" * 32,
                rng.random() < 0.01,
                False,
            )
        )
    return out


_COLUMNS = (
    "seq, tenant_id, idempotency_key, metric, customer_ref, quantity, ts_us, received_us, "
    "fingerprint, late, late_after_close"
)


def _fill(url: str, args: argparse.Namespace, reporter: Reporter) -> None:
    """The ledger written in bulk (the ingest path would take most of an hour here), then
    the reference counters: a rebuild folded row by row in Python, the path the property
    tests hold equal to live ingest."""
    from stripemeter_server.domain.metrics import metric_from_dict
    from stripemeter_server.service.catalog.metrics import create_metric, get_metric
    from stripemeter_server.service.corrections import rebuild
    from stripemeter_server.service.operations.tenancy import create_tenant
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    try:
        store.migrate()
        with store.unit_of_work("default") as uow:
            now = datetime.now(UTC)
            create_tenant(uow, "default", name=None, auto_create_metrics=False, now=now)
            create_metric(uow, metric_from_dict(METRIC), now)
            uow.commit()
        postgres = store.dialect == "postgresql"
        with reporter.task("fill (bulk)", args.events) as update:
            for start in range(0, args.events, 100_000):
                n = min(100_000, args.events - start)
                rows = _rows(n, args.customers, args.days, seed=start, offset=start)
                with store.engine.begin() as conn:
                    cursor = conn.connection.cursor()
                    if postgres:
                        names = _COLUMNS.replace("seq, ", "")
                        with cursor.copy(f"COPY events ({names}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row[1:])
                    else:
                        marks = ", ".join("?" * len(rows[0]))
                        cursor.executemany(
                            f"INSERT INTO events ({_COLUMNS}) VALUES ({marks})", rows
                        )
                    cursor.close()
                update(start + n)
        if postgres:  # the keys, each naming its event (the rebuild reads winners by key)
            with store.engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO event_keys (tenant_id, idempotency_key, fingerprint, seq, "
                    "received_us) SELECT tenant_id, idempotency_key, fingerprint, seq, "
                    "received_us FROM events"
                )
        if postgres and args.analyze:
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        reporter.log("reference counters: a rebuild folded row by row")
        in_store = rebuild._fold_in_store
        rebuild._fold_in_store = lambda *_args: None
        try:
            with store.unit_of_work("default") as uow:
                metric = get_metric(uow, METRIC["code"])
                rebuild.rebuild_metric(uow, metric, customer_ref=None, now_us=0)
                uow.commit()
        finally:
            rebuild._fold_in_store = in_store
    finally:
        store.close()


def _counters(store: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import select

    from stripemeter_server.storage.schema import counters

    columns = [c for c in counters.c if c.name != "updated_us"]
    with store.engine.connect() as conn:
        query = select(*columns).where(counters.c.metric == METRIC["code"])
        return sorted(tuple(row) for row in conn.execute(query))


def _rebuild(url: str, pg: Postgres | None, reporter: Reporter) -> None:
    from stripemeter_server.service.catalog.metrics import get_metric
    from stripemeter_server.service.corrections.rebuild import rebuild_metric
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    try:
        live = _counters(store)
        db_before, cpu_before = _database_cpu(pg), time.process_time()
        started = time.perf_counter()
        with store.unit_of_work("default") as uow:
            now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
            metric = get_metric(uow, METRIC["code"])
            report = rebuild_metric(uow, metric, customer_ref=None, now_us=now_us)
            uow.commit()
        wall = time.perf_counter() - started
        cpu, db = time.process_time() - cpu_before, _database_cpu(pg) - db_before
        exact = _counters(store) == live
    finally:
        store.close()
    line = (
        f"rebuild: {report.events} events, {report.counters} counters in {wall:.2f} s = "
        f"{report.events / wall:,.0f} events/s; process CPU {cpu:.2f} s"
    )
    if pg is not None:
        line += f", server CPU {db:.2f} s"
    reporter.log(f"{line}; exact={exact}; load average {os.getloadavg()[0]:.1f}")


def _explain(url: str) -> None:
    """The grouped query's plan: one more rebuild, rolled back, whose grouped query is
    explained instead of read (the temporary period table is filled by then)."""
    from stripemeter_server.service.catalog.metrics import get_metric
    from stripemeter_server.service.corrections.rebuild import rebuild_metric
    from stripemeter_server.storage.ledger import events as ledger
    from stripemeter_server.storage.ledger.period_totals import planner_settings
    from stripemeter_server.storage.unit_of_work import Store

    original = ledger.grouped_rows
    plan: list[str] = []

    def explaining(conn: Any, query: Any) -> list[Any]:
        sqlite = conn.dialect.name == "sqlite"
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        sql = str(compiled)
        if sqlite:
            sql = sql.replace("FROM rebuild_periods JOIN", "FROM rebuild_periods CROSS JOIN", 1)
        params = compiled.construct_params()
        args = (
            tuple(params[n] for n in compiled.positiontup or ()) if compiled.positional else params
        )
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
        with planner_settings(conn):
            cursor = conn.connection.cursor()
            cursor.execute(prefix + sql, args)
            plan.extend(" ".join(str(v) for v in row) for row in cursor.fetchall())
            cursor.close()
        return original(conn, query)

    ledger.grouped_rows = explaining  # type: ignore[attr-defined]
    store = Store(url)
    try:
        with store.unit_of_work("default") as uow:
            metric = get_metric(uow, METRIC["code"])
            rebuild_metric(uow, metric, customer_ref=None, now_us=0)
        print("\n".join(plan))
    finally:
        ledger.grouped_rows = original  # type: ignore[attr-defined]
        store.close()


def _database_cpu(pg: Postgres | None) -> float:
    if pg is None:
        return 0.0
    pid = int((pg.server.root / "data" / "postmaster.pid").read_text().split()[0])
    return tree_cpu_seconds(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--url", help="a filled store to rebuild (no fill)")
    parser.add_argument(
        "--keep", action="store_true", help="leave the filled store (and PostgreSQL) in place"
    )
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE after the fill (PostgreSQL; else a fresh partition has no statistics)",
    )
    args = parser.parse_args(argv)
    reporter = Reporter(force_plain=True)

    pg = Postgres() if args.database == "postgres" and args.url is None else None
    scratch = None
    url = args.url
    try:
        if url is None:
            if pg is not None:
                url = pg.database("rebuild")
            else:
                scratch = Path(tempfile.mkdtemp(prefix="rebuild-"))
                url = f"sqlite:///{scratch / 'store.db'}"
            reporter.log(f"filling {url}")
            _fill(url, args, reporter)
        for _ in range(args.repeat):
            _rebuild(url, pg, reporter)
        if args.explain:
            _explain(url)
    finally:
        if args.keep and url is not None and args.url is None:
            where = f"pg_ctl -D {pg.server.root}/data stop" if pg else f"rm -r {scratch}"
            reporter.log(f"left in place: {url} (remove with {where})")
        elif pg is not None:
            pg.stop()
        elif scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
