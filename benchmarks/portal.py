"""``python -m benchmarks.portal``: p99 of the customer portal's read API at 1M events.

Fills a fresh store (SQLite, and PostgreSQL unless ``--only sqlite``) as
``benchmarks.ui`` does (100 000 customers, 1 000 000 ledger events; ``--quick``: 10 000 and
100 000; this month's, so a server on the real clock reads them), mints a portal token for
one customer and times ``--requests`` calls of each portal read twice, after a warm-up:

* in process (FastAPI TestClient, token admission included, no network): the process's CPU
  per call, the database server's CPU per call (PostgreSQL: its whole process tree, read
  before and after each route) and the statements each call sent (a SQLAlchemy event
  counter; ``BEGIN`` and ``ROLLBACK`` are not counted). The TestClient's own cost (its
  thread hops; the ``/health/live`` floor row) is in these times;
* over HTTP against ``stripemeter serve`` on the same store, one keep-alive connection
  (``rawhttp.py``): the p50 and p99 the budget is judged on, as a client sees them.

It prints the load average too.
Usage: ``python -m benchmarks.portal [--quick] [--only sqlite|postgres] [--requests N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from benchmarks.proctree import tree_cpu_seconds
from benchmarks.progress import Reporter
from benchmarks.rawhttp import RawConnection, encode_request
from benchmarks.server import HOST, Postgres, Server
from benchmarks.ui import KEY, _fill, _ref
from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store

BUDGET_MS = 10.0
READS = {
    "usage": "/portal/v1/usage",
    "projection": "/portal/v1/projection",
    "history (31 days, daily)": "/portal/v1/history?metric=api_calls",
    "alerts": "/portal/v1/alerts",
    "entitlements": "/portal/v1/entitlements",
    "credits": "/portal/v1/credits",
    "upcoming-invoice": "/portal/v1/upcoming-invoice",
}
ADMIN_READS = {
    "usage/current": "/v1/usage/current?customerRef={ref}",
    "usage/periods": "/v1/usage/periods?customerRef={ref}&metric=api_calls"
    "&from=2025-12-01T00:00:00Z&to=2026-02-01T00:00:00Z",
    "usage/history": "/v1/usage/history?customerRef={ref}&metric=api_calls"
    "&from=2025-12-20T00:00:00Z&to=2026-01-20T00:00:00Z",
}
FLOOR = "/health/live"  # the harness's own cost: TestClient, middleware, no database


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.portal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="10 000 customers, 100 000 events")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.events = 10_000, 100_000
    return args


class Meter:
    """What a route costs beyond wall time: the statements the store's engine sent and the
    database server's CPU (a PostgreSQL server's process tree; nothing for SQLite, whose
    work is in this process's CPU already)."""

    def __init__(self, store: Store, db_pid: int | None) -> None:
        self.statements = 0
        self.db_pid = db_pid
        event.listen(store.engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.statements += 1

    def db_cpu(self) -> float:
        return tree_cpu_seconds(self.db_pid) if self.db_pid is not None else 0.0


Timed = tuple[float, float, float, float | None, float]


def _percentiles(client: TestClient, path: str, token: str, count: int, meter: Meter) -> Timed:
    """p50 and p99 wall time and the process's CPU per call (ms): the TestClient runs the
    app in this process, so the CPU is the server's work plus the harness's (the floor row,
    ``/health/live``, shows the harness's share). Then the database server's CPU per call
    (ms; ``None`` for SQLite) and the statements per call."""
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(20):  # warm-up: statements prepared, pools filled
        client.get(path, headers=headers)
    times = []
    statements, db_started = meter.statements, meter.db_cpu()
    cpu_started = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
    cpu_ms = (time.process_time() - cpu_started) * 1000 / count
    db_ms = (meter.db_cpu() - db_started) * 1000 / count if meter.db_pid is not None else None
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, cpu_ms, db_ms, (meter.statements - statements) / count


def _seed_billing(client: TestClient, admin: dict[str, str], ref: str) -> None:
    """A price, a metered entitlement and a credit grant for the token's customer, so the
    projection, entitlements, credits and upcoming-invoice reads have something to show."""
    calls = [
        (
            "put",
            "/v1/prices/api_calls",
            {"model": "per_unit", "currency": "usd", "unitAmount": "0.01"},
        ),
        ("put", "/v1/features/calls_quota", {"type": "metered", "metric": "api_calls"}),
        ("put", f"/v1/customers/{ref}/entitlements/calls_quota", {"limit": "5000"}),
        (
            "post",
            f"/v1/customers/{ref}/credit-grants",
            {"amount": "5", "currency": "usd", "idempotencyKey": "bench-grant"},
        ),
    ]
    for method, path, body in calls:
        answer = client.request(method, path, json=body, headers=admin)
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text}")


def _over_http(server: Server, path: str, token: str, count: int) -> tuple[float, float]:
    """p50 and p99 wall time (ms) of ``count`` calls over one keep-alive connection."""
    conn = RawConnection(HOST, server.port, timeout=60)
    raw = encode_request("GET", path, None, {"Authorization": f"Bearer {token}"})
    try:
        for _ in range(20):  # warm-up: this process's statements prepared, pools filled
            conn.exchange(raw)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            status, _body = conn.exchange(raw)
            times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} over HTTP")
    finally:
        conn.close()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def _line(
    label: str,
    name: str,
    timed: Timed,
    http: tuple[float, float] | None,
    budget: float | None,
) -> str:
    p50, p99, cpu, db_cpu, statements = timed
    judged = p99 if http is None else http[1]
    verdict = "" if budget is None else ("  [ok]" if judged < budget else "  [OVER BUDGET]")
    db = "" if db_cpu is None else f", db cpu {db_cpu:5.2f} ms"
    over_http = "" if http is None else f"; HTTP p50 {http[0]:6.2f} ms, p99 {http[1]:6.2f} ms"
    return (
        f"{label}: {name:34s} in process p50 {p50:6.2f} ms, p99 {p99:6.2f} ms, "
        f"cpu {cpu:5.2f} ms/request{db}, {statements:4.1f} statements{over_http}{verdict}"
    )


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(
    url: str,
    args: argparse.Namespace,
    reporter: Reporter,
    label: str,
    db_pid: int | None,
    workdir: Path,
) -> bool:
    now = datetime.now(UTC)
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, now, KEY)
        uow.commit()
    reporter.log(f"{label}: filling {args.customers:,} customers, {args.events:,} events")
    _fill(store, args.customers, args.events, reporter, now)
    ctx = ServiceContext(store=store, clock=FrozenClock(now), limits=EventLimits())
    app = create_app(Settings(database_url=url), context=ctx)
    meter = Meter(store, db_pid)
    reporter.log(f"{label}: {_load()}")
    ok = True
    server: Server | None = None
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {KEY}"}
        client.post("/v1/metrics", json={"code": "api_calls", "aggregation": "sum"}, headers=admin)
        ref = _ref(7)
        _seed_billing(client, admin, ref)
        minted = client.post("/v1/portal/tokens", json={"customerRef": ref}, headers=admin)
        token = minted.json()["token"]
        server = Server(url, workdir)  # the same store, the real clock, its own process
        try:
            floor = _percentiles(client, FLOOR, KEY, args.requests, meter)
            http = _over_http(server, FLOOR, KEY, args.requests)
            reporter.log(_line(label, "floor (/health/live)", floor, http, None))
            for name, template in ADMIN_READS.items():
                path = template.format(ref=ref)
                timed = _percentiles(client, path, KEY, args.requests, meter)
                http = _over_http(server, path, KEY, args.requests)
                reporter.log(_line(label, f"admin {name}", timed, http, None))
            for name, path in READS.items():
                timed = _percentiles(client, path, token, args.requests, meter)
                http = _over_http(server, path, token, args.requests)
                ok = ok and http[1] < BUDGET_MS
                reporter.log(_line(label, f"portal {name}", timed, http, BUDGET_MS))
        finally:
            server.stop()
    reporter.log(f"{label}: {_load()}")
    store.close()
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reporter = Reporter(force_plain=True)
    results: list[bool] = []
    runs: list[tuple[str, Callable[[], str], int | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as folder:
        if args.only in (None, "sqlite"):
            runs.append(("sqlite", lambda: f"sqlite:///{Path(folder) / 'portal.db'}", None))
        postgres = Postgres() if args.only in (None, "postgres") else None
        if postgres is not None:
            runs.append(("postgres", lambda: postgres.database("bench_portal"), postgres.pid()))
        try:
            for label, url, db_pid in runs:
                results.append(measure(url(), args, reporter, label, db_pid, Path(folder)))
        finally:
            if postgres is not None:
                postgres.stop()
    reporter.log("portal reads: " + ("p99 within 10 ms" if all(results) else "some p99 over 10 ms"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
