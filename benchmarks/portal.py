"""``python -m benchmarks.portal``: p99 of the customer portal's read API at 1M events.

Fills a fresh store (SQLite, and PostgreSQL unless ``--only sqlite``) as
``benchmarks.ui`` does (100 000 customers, 1 000 000 ledger events; ``--quick``: 10 000 and
100 000), mints a portal token for one customer and times ``--requests`` calls of each
portal read in process (FastAPI TestClient: the server's own time, token admission
included, no network), after a warm-up. Reports p50 and p99 against the 10 ms budget.
Usage: ``python -m benchmarks.portal [--quick] [--only sqlite|postgres] [--requests N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.progress import Reporter
from benchmarks.server import Postgres
from benchmarks.ui import KEY, NOW, _fill, _ref
from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store

BUDGET_MS = 10.0
READS = {"usage": "/portal/v1/usage", "projection": "/portal/v1/projection",
         "history (31 days, daily)": "/portal/v1/history?metric=api_calls",
         "alerts": "/portal/v1/alerts"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.portal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 000 customers, 100 000 events")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.events = 10_000, 100_000
    return args


def _percentiles(client: TestClient, path: str, token: str, count: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(20):  # warm-up: statements prepared, pools filled
        client.get(path, headers=headers)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def measure(url: str, args: argparse.Namespace, reporter: Reporter, label: str) -> bool:
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, NOW, KEY)
        uow.commit()
    reporter.log(f"{label}: filling {args.customers:,} customers, {args.events:,} events")
    _fill(store, args.customers, args.events, reporter)
    ctx = ServiceContext(store=store, clock=FrozenClock(NOW), limits=EventLimits())
    app = create_app(Settings(database_url=url), context=ctx)
    ok = True
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {KEY}"}
        client.post("/v1/metrics", json={"code": "api_calls", "aggregation": "sum"},
                    headers=admin)
        minted = client.post("/v1/portal/tokens", json={"customerRef": _ref(7)}, headers=admin)
        token = minted.json()["token"]
        p50, p99 = _percentiles(client, f"/v1/usage/current?customerRef={_ref(7)}", KEY,
                                args.requests)
        reporter.log(f"{label}: admin API usage (for comparison)  p50 {p50:6.2f} ms, "
                     f"p99 {p99:6.2f} ms")
        for name, path in READS.items():
            p50, p99 = _percentiles(client, path, token, args.requests)
            verdict = "ok" if p99 < BUDGET_MS else "OVER BUDGET"
            ok = ok and p99 < BUDGET_MS
            reporter.log(f"{label}: portal {name:26s} p50 {p50:6.2f} ms, p99 {p99:6.2f} ms"
                         f"  [{verdict}]")
    store.close()
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reporter = Reporter(force_plain=True)
    results: list[bool] = []
    runs: list[tuple[str, Callable[[], str]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as folder:
        if args.only in (None, "sqlite"):
            runs.append(("sqlite", lambda: f"sqlite:///{Path(folder) / 'portal.db'}"))
        postgres = Postgres() if args.only in (None, "postgres") else None
        if postgres is not None:
            runs.append(("postgres", lambda: postgres.database("bench_portal")))
        try:
            for label, url in runs:
                results.append(measure(url(), args, reporter, label))
        finally:
            if postgres is not None:
                postgres.stop()
    reporter.log("portal reads: " + ("p99 within 10 ms" if all(results)
                                     else "some p99 over 10 ms"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
