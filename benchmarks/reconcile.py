"""Reconciliation at scale: one run over N customers (10 000 by default) against the emulator.

Usage: ``python -m benchmarks.reconcile [--customers N] [--only sqlite|postgres]``

Each customer gets usage on a ``meter_events`` metric, the pusher sends it to the emulator,
a few customers get drift injected behind the product's back, then one run is timed. It
checks that exactly the injected lines are flagged, and reports the time, Stripe calls per
second (under the live-key rate limit, 500/s) and the process's peak memory growth.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T0 = 1768435200  # 2026-01-15T00:00:00Z
DRIFTED = 10
RESULTS = ROOT / "benchmarks" / "results"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(url: str, customers: int) -> dict[str, object]:
    from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
    from stripemeter_server.domain.destinations import HostAllowList
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.domain.metrics import metric_from_dict
    from stripemeter_server.domain.stripe_mapping import MeterFormula, mapping_from_dict
    from stripemeter_server.service.catalog.metrics import create_metric
    from stripemeter_server.service.clock import FrozenClock
    from stripemeter_server.service.context import ServiceContext, StripeAccess
    from stripemeter_server.service.ingest.pipeline import ingest_batch
    from stripemeter_server.service.operations.tenancy import bootstrap
    from stripemeter_server.service.ports.stripe import StripeCredentials
    from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
    from stripemeter_server.service.reconciliation.plan import RunScope
    from stripemeter_server.service.reconciliation.runs import start_run
    from stripemeter_server.service.stripe_sync.mappings import put_mapping
    from stripemeter_server.service.stripe_sync.sender import PushPolicy
    from stripemeter_server.storage.unit_of_work import Store
    from stripemeter_server.stripe.gateway import GatewayPool
    from stripemeter_server.workers.stripe_push import StripePushWorker

    now = datetime.fromtimestamp(T0, UTC)
    store = Store(url)
    store.migrate()
    config = EmulatorConfig(
        clock=EmulatorClock(frozen_at=T0),
        auto_deliver_webhooks=False,
        require_known_customers=False,
    )
    with EmulatorServer(config) as emu:
        pool = GatewayPool(allowed_hosts=HostAllowList.of_urls(emu.url))
        credentials = StripeCredentials("sk_live_bench_reconcile", None, emu.url)
        ctx = ServiceContext(
            store=store,
            clock=FrozenClock(now),
            stripe=StripeAccess(environment=credentials, factory=pool),
        )
        with store.unit_of_work() as uow:
            bootstrap(uow, now, "smk_bench_reconcile_0001", auto_create_metrics=True)
            uow.commit()
        with store.unit_of_work("default") as uow:
            create_metric(uow, metric_from_dict({"code": "bench_calls", "aggregation": "sum"}), now)
            put_mapping(uow, mapping_from_dict({"metric": "bench_calls"}), now)
            uow.commit()
        pool(credentials).create_meter("bench_calls", "bench_calls", MeterFormula.SUM)
        refs = [f"cus_bench{i:06d}" for i in range(customers)]
        for start in range(0, customers, 1000):
            events = [
                {
                    "metric": "bench_calls",
                    "customerRef": ref,
                    "quantity": str(i % 97 + 1),
                    "ts": "2026-01-10T00:00:00Z",
                }
                for i, ref in enumerate(refs[start : start + 1000], start)
            ]
            with store.unit_of_work("default") as uow:
                ingest_batch(uow, events, now=now, limits=EventLimits())
                uow.commit()
        fast = PushPolicy(rate_live=5000, batch=1000, full_sweep_s=0)
        pusher = StripePushWorker(ctx, fast)
        pushed_s = time.perf_counter()
        while pusher.run_once(now, full=True).claimed:
            pass
        pushed_s = time.perf_counter() - pushed_s
        for ref in refs[:: max(1, customers // DRIFTED)][:DRIFTED]:
            emu.control(
                "POST",
                "/meter_events",
                {
                    "event_name": "bench_calls",
                    "timestamp": T0,
                    "payload": {"stripe_customer_id": ref, "value": "5"},
                },
            )
        with store.unit_of_work("default") as uow:
            run = start_run(uow, RunScope(), False, now)
            uow.commit()
        rss_before = _rss_mb()
        started = time.perf_counter()
        done = execute(ctx, "default", run.run_id, RunPolicy(page_size=500))
        seconds = time.perf_counter() - started
        pool.close()
    assert done is not None and done.summary is not None, done
    summary = json.loads(done.summary)
    store.close()
    flagged = sum(n for s, n in summary["counts"].items() if s not in ("ok", "pending"))
    return {
        "customers": customers,
        "lines": sum(summary["counts"].values()),
        "flagged": flagged,
        "flagged_expected": DRIFTED,
        "seconds": round(seconds, 2),
        "stripe_calls": summary["stripeCalls"],
        "calls_per_second": round(summary["stripeCalls"] / seconds, 1),
        "rate_limit_per_second": 500,
        "push_seconds": round(pushed_s, 2),
        "peak_rss_growth_mb": round(_rss_mb() - rss_before, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconcile", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args(argv)
    rows = {}
    with tempfile.TemporaryDirectory() as workdir:
        if args.only in (None, "sqlite"):
            rows["sqlite"] = bench(f"sqlite:///{workdir}/bench.db", args.customers)
            print("sqlite", rows["sqlite"], flush=True)
        if args.only in (None, "postgres"):
            from benchmarks.server import Postgres

            pg = Postgres()
            try:
                rows["postgres"] = bench(pg.database("bench_reconcile"), args.customers)
                print("postgres", rows["postgres"], flush=True)
            finally:
                pg.stop()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}-reconcile.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["flagged"] == r["flagged_expected"] for r in rows.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
