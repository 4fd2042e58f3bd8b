"""Rows read and database CPU per group of single events, before and after ``ANALYZE``.

Usage: ``python -m benchmarks.lookups [--keys 200000] [--customers 10000] [--groups 200]
[--committer]``

A full run's PostgreSQL store after its batch phases — ``--keys`` stored idempotency keys,
``--customers`` customers with a counter each, one tenant — filled straight in SQL and never
analysed (as a store is for up to a minute of load, until autovacuum first gets to it).
Groups of 8 new single events (random customers) then go through ``ingest_group``, one
transaction each, after the key stamp's read, as the group committer runs them; then the same
after ``ANALYZE``. It prints, per group: the rows the transaction read from ``event_keys``,
``customers`` and ``counters`` (``pg_stat_xact_user_tables``), the statements sent (each a
round trip: the stamp's and ``ingest_group``'s; ``BEGIN`` and ``COMMIT`` make two more), the
database's CPU time (its processes' ``/proc`` times), this process's CPU time (the pipeline,
the driver and the bench's own two statistics reads) and the median wall time. Rows read,
statements and CPU time barely depend on how busy the machine is; wall time on a shared
machine does. The throwaway server runs with fsync off, so the shared disk stays out of the
figures (ADR 0943, 0947).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import text

from benchmarks.proctree import tree_cpu_seconds
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ingest import pipeline
from stripemeter_server.service.ingest.outcome import BatchRequest
from stripemeter_server.service.ingest.pipeline import ingest_group, ingest_parsed, parse_group
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import make_tenant
from tests.support.postgres import PostgresServer

TENANT = "ten_lookups"
METRIC = "bench_sum"
GROUP = 8
_ROWS_READ = text(
    "SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0) "
    "FROM pg_stat_xact_user_tables WHERE relname IN ('event_keys', 'customers', 'counters')"
)


def _fill(server: PostgresServer, url: str, keys: int, customers: int, now: datetime) -> Store:
    store = Store(url, pool_size=2)
    store.migrate()
    make_tenant(store, TENANT, now, metrics=[{"code": METRIC, "aggregation": "sum"}])
    with psycopg.connect(server.admin_url.rsplit("/", 1)[0] + "/lookups") as conn:
        conn.execute(
            "INSERT INTO event_keys SELECT %s, 'stored-' || g, md5(g::text) "
            "FROM generate_series(1, %s) g",
            (TENANT, keys),
        )
        conn.execute(
            "INSERT INTO customers (tenant_id, customer_ref, anchor_day, timezone, created_us, "
            "updated_us) SELECT %s, 'cus_' || g, 1, 'UTC', 0, 0 FROM generate_series(1, %s) g",
            (TENANT, customers),
        )
    month = to_micros(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    end = month + 31 * 86_400_000_000  # beyond the month's end: the counter's row only
    with store.unit_of_work(TENANT) as uow:
        uow.counters.lock({(METRIC, f"cus_{g}", month): end for g in range(1, customers + 1)}, 0)
        uow.commit()
    return store


def _group(customers: int, now: datetime, n: int) -> list[BatchRequest]:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        BatchRequest(
            [
                {
                    "metric": METRIC,
                    "customerRef": f"cus_{random.randrange(1, customers + 1)}",
                    "quantity": "1.5",
                    "ts": stamp,
                    "idempotencyKey": f"new-{uuid.uuid4().hex}",
                }
            ],
            now,
            f"req_{n}_{i}",
        )
        for i in range(GROUP)
    ]


class _Statements:
    """Counts the statements sent through ``psycopg`` cursors (SQLAlchemy's and the raw
    driver's alike) while it is entered."""

    def __init__(self) -> None:
        self.count = 0
        self._execute = psycopg.Cursor.execute

    def __enter__(self) -> _Statements:
        execute = self._execute

        def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return execute(cursor, *args, **kwargs)

        psycopg.Cursor.execute = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._execute  # type: ignore[method-assign]


def _run(label: str, store: Store, pg_pid: int, customers: int, groups: int) -> None:
    now = datetime.now(UTC)
    walls, reads, statements = [], [], []
    cpu_before, own_before = tree_cpu_seconds(pg_pid), time.process_time()
    for n in range(groups):
        requests = _group(customers, now, n)
        started = time.perf_counter()
        with store.unit_of_work(TENANT) as uow:
            before = int(uow.connection.execute(_ROWS_READ).scalar_one())
            with _Statements() as sent:
                uow.api_keys.stamp(TENANT)
                outcomes = ingest_group(uow, requests, now=now, limits=EventLimits())
            statements.append(sent.count)
            reads.append(int(uow.connection.execute(_ROWS_READ).scalar_one()) - before)
            uow.commit()
        walls.append((time.perf_counter() - started) * 1000)
        assert all(o.results[0].status == "accepted" for o in outcomes)
    cpu_ms = (tree_cpu_seconds(pg_pid) - cpu_before) * 1000 / groups
    own_ms = (time.process_time() - own_before) * 1000 / groups
    print(
        f"{label}: {groups} groups of {GROUP}: rows read per group {statistics.median(reads):.0f}"
        f", statements per group {statistics.median(statements):.0f}"
        f", database CPU per group {cpu_ms:.2f} ms, client {own_ms:.2f} ms"
        f", wall median {statistics.median(walls):.1f} ms"
    )


class _RoundTrips:
    """Round trips: statements sent alone, the ``BEGIN`` and ``COMMIT`` psycopg sends on its
    own, and pipelines (what one pipeline sends goes out together, one sync at its end)."""

    def __init__(self) -> None:
        self.count = 0
        self._execute = psycopg.Cursor.execute
        self._command = psycopg.Connection._exec_command
        self._pipeline = psycopg.Connection.pipeline

    def __enter__(self) -> _RoundTrips:
        execute, command, pipeline = self._execute, self._command, self._pipeline

        def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += cursor.connection._pipeline is None
            return execute(cursor, *args, **kwargs)

        def counted_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += conn._pipeline is None
            return command(conn, *args, **kwargs)

        def counted_pipeline(conn: Any) -> Any:
            self.count += 1
            return pipeline(conn)

        psycopg.Cursor.execute = counted  # type: ignore[method-assign]
        psycopg.Connection._exec_command = counted_command  # type: ignore[method-assign]
        psycopg.Connection.pipeline = counted_pipeline  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._execute  # type: ignore[method-assign]
        psycopg.Connection._exec_command = self._command  # type: ignore[method-assign]
        psycopg.Connection.pipeline = self._pipeline  # type: ignore[method-assign]


def _committer_group(uow: Any, requests: list[BatchRequest], now: datetime) -> list[Any]:
    """A group as the group committer runs it: its first reads (``group_head`` where the
    code has it, ADR 0969; else the key stamp), the pipeline, the commit."""
    group = parse_group(requests, TENANT, EventLimits())
    if hasattr(uow, "group_head"):
        head = uow.group_head(pipeline.ledger_keys(group), stamp=True)
        outcomes = ingest_parsed(uow, group, now=now, stored=head.fingerprints)
    else:
        uow.api_keys.stamp(TENANT)
        outcomes = ingest_parsed(uow, group, now=now)
    uow.commit()
    return outcomes


def _run_committer(label: str, store: Store, pg_pid: int, customers: int, groups: int) -> None:
    """New groups, then the same groups again (replays): round trips (``BEGIN`` and
    ``COMMIT`` included), database and client CPU per group."""
    now = datetime.now(UTC)
    sent_groups = [_group(customers, now, n) for n in range(groups)]
    for kind, status in (("new", "accepted"), ("replays", "duplicate")):
        trips: list[int] = []
        walls: list[float] = []
        cpu_before, own_before = tree_cpu_seconds(pg_pid), time.process_time()
        for requests in sent_groups:
            started = time.perf_counter()
            with store.unit_of_work(TENANT) as uow, _RoundTrips() as sent:
                outcomes = _committer_group(uow, requests, now)
            walls.append((time.perf_counter() - started) * 1000)
            trips.append(sent.count)
            assert all(o.results[0].status == status for o in outcomes)
        cpu_ms = (tree_cpu_seconds(pg_pid) - cpu_before) * 1000 / groups
        own_ms = (time.process_time() - own_before) * 1000 / groups
        print(
            f"{label}, {kind}: {groups} groups of {GROUP}: round trips per group "
            f"{statistics.median(trips):.0f}, database CPU per group {cpu_ms:.2f} ms, "
            f"client {own_ms:.2f} ms, wall median {statistics.median(walls):.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument(
        "--committer",
        action="store_true",
        help="groups as the group committer runs them, new then replayed: round trips per "
        "group, BEGIN and COMMIT included (ADR 0969)",
    )
    args = parser.parse_args()
    run = _run_committer if args.committer else _run
    server = PostgresServer.start()
    try:
        url = server.create_database("lookups")
        store = _fill(server, url, args.keys, args.customers, datetime.now(UTC))
        pg_pid = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
        run("never analysed", store, pg_pid, args.customers, args.groups)
        with psycopg.connect(server.admin_url.rsplit("/", 1)[0] + "/lookups") as conn:
            conn.execute("ANALYZE")
        time.sleep(1)  # the ANALYZE's backend gone before the CPU is sampled
        run("analysed", store, pg_pid, args.customers, args.groups)
        store.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
