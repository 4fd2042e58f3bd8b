"""Push benchmark: the Stripe pusher beside its floor, into an emulator in its own process.

``python -m benchmarks.push [--quick | --smoke] [--database sqlite|postgres]`` (and ``make
bench``, per database). The emulator runs in a process of its own with its rate limits off
(``push_emulator.py``); the pusher runs in this process on a fresh store, its token bucket
lifted (``UNCAPPED``): the figures are the pusher's own capacity, not Stripe's limits.

* ``push_drain`` (v1) and ``push_drain_v2`` (v2 streams): one change for each of N
  customers, then passes until all are sent; changes/s = N / time, ``events_per_cpu_s`` =
  N / this process's CPU time. Beside each, the floor (``push_floor.py``): a plain httpx loop
  sending N meter events to the same emulator at the same concurrency, in the same run;
  ``floor_ratio`` = pusher ÷ floor. Exact when Stripe's meter summary equals the ledger for
  every sampled customer.
* ``push_lag``: ingest at a steady rate (500 changes/s in the full run) while the pusher's
  loop runs. An event's lag is the time from its ingest commit to the ``sent`` of the first
  push of its counter that carries it: the first whose ``pushed_after`` reaches the
  counter's total with that event in it (from the outbox); p50/p99 over every event.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from benchmarks.config import FULL, PROFILES, Profile
from benchmarks.progress import Reporter
from benchmarks.push_emulator import EmulatorProcess
from benchmarks.push_floor import FloorResult, floor_v1, floor_v2
from stripemeter_server.cli.serve_cmds import settle_startup_objects
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.stripe_mapping import MeterFormula, mapping_from_dict
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.mappings import put_mapping
from stripemeter_server.service.stripe_sync.meters import sync_tenant_meters
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.storage.schema import push_outbox
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool, StripeGateway
from stripemeter_server.workers.stripe_push import StripePushWorker

UNCAPPED = PushPolicy(rate_live=1e9, rate_test=1e9)
KEY = "sk_live_bench_push"
V1, V2 = "push_v1", "push_v2"
FLOOR_V1, FLOOR_V2 = "push_floor_v1", "push_floor_v2"
LAG_RATE = 500  # changes per second while the lag is measured


def _customers(profile: Profile) -> int:
    return {"full": 5000, "quick": 1500}.get(profile.name, 50)


def _lag_seconds(profile: Profile) -> float:
    return {"full": 20.0, "quick": 8.0}.get(profile.name, 1.5)


class Bench:
    """One store, one emulator process, one worker: the phases share them."""

    def __init__(self, store: Store, emulator: EmulatorProcess, count: int) -> None:
        self.store, self.emulator = store, emulator
        credentials = StripeCredentials(KEY, api_base=emulator.url)
        hosts = HostAllowList.of_urls(emulator.url)
        self.ctx = ServiceContext(
            store=store,
            clock=SystemClock(),
            stripe=StripeAccess(environment=credentials, factory=GatewayPool(allowed_hosts=hosts)),
        )
        self.gateway = StripeGateway(credentials, allowed_hosts=hosts)
        now = self.ctx.clock.now()
        with store.unit_of_work("default") as uow:
            bootstrap(uow, now, None, auto_create_metrics=True)
            for code, transport in ((V1, "v1"), (V2, "v2_stream")):
                create_metric(uow, metric_from_dict({"code": code, "aggregation": "sum"}), now)
                put_mapping(uow, mapping_from_dict({"metric": code, "transport": transport}), now)
            uow.commit()
        sync_tenant_meters(self.ctx, "default")
        for name in (FLOOR_V1, FLOOR_V2):
            self.gateway.create_meter(name, name, MeterFormula.SUM)
        with ThreadPoolExecutor(8) as pool:
            self.refs = list(
                pool.map(
                    lambda i: str(
                        self.gateway.call(
                            lambda c: c.v1.customers.create(params={"name": f"bench {i}"})
                        ).id
                    ),
                    range(count),
                )
            )
        self.expected: dict[tuple[str, str], Decimal] = {}
        self.worker = StripePushWorker(self.ctx, UNCAPPED)
        # A worker's first pass (nothing to send yet) loads the library's lazily imported
        # services and reads the error reports once: a running worker has done it long
        # before, so the timed drains measure passes, not process start (README).
        self.worker.run_once(full=True)
        # What start-up built leaves the collector's reach, as ``stripemeter worker`` and
        # ``serve`` do once they are up (ADR 0964, 0973): else a full collection walks it
        # again in each drain (0.1-0.5 s per v2 drain at load; README).
        settle_startup_objects()
        # (commit µs, metric, customer, the counter's total with the event in it)
        self.commits: list[tuple[int, str, str, Decimal]] = []

    def ingest(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 500):
            part = events[start : start + 500]
            with self.store.unit_of_work("default") as uow:
                ingest_batch(uow, part, now=self.ctx.clock.now(), limits=EventLimits())
                uow.commit()
            done_us = int(time.time() * 1e6)
            for e in part:
                key = (e["metric"], e["customerRef"])
                total = self.expected[key] = self.expected.get(key, Decimal(0)) + Decimal(
                    e["quantity"]
                )
                self.commits.append((done_us, e["metric"], e["customerRef"], total))

    def analyze(self) -> None:
        """PostgreSQL: table statistics, as autovacuum would have them within a minute of
        the fill. Without them the planner's first scans join fresh tables by nested loops
        (~1.4 s per incremental scan at 1 500 counters; README)."""
        if self.store.engine.dialect.name == "postgresql":
            with self.store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")

    def pending(self) -> int:
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.pushes.stats().pending

    def drain(self, limit_s: float = 300.0) -> tuple[float, float]:
        cpu, started, full = time.process_time(), time.perf_counter(), True
        while time.perf_counter() - started < limit_s:
            report = self.worker.run_once(full=full)  # later passes: what changed since
            full = False
            if report.planned == 0 and report.claimed == 0 and self.pending() == 0:
                break  # a pass that planned (not deferred: nothing was claimed) nothing
        return time.perf_counter() - started, time.process_time() - cpu

    def exact(self, metric: str, sample: int = 200) -> bool:
        meters = {m.event_name: m.meter_id for m in self.gateway.list_meters()}
        day = int(time.time()) // 86400 * 86400
        refs = random.Random(7).sample(self.refs, min(sample, len(self.refs)))
        return all(
            self.gateway.meter_total(meters[metric], ref, day - 40 * 86400, day + 2 * 86400)
            == self.expected.get((metric, ref), Decimal(0))
            for ref in refs
        )


def _event(metric: str, ref: str, n: int) -> dict[str, Any]:
    return {
        "metric": metric,
        "customerRef": ref,
        "quantity": str(1 + n % 7),
        "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "idempotencyKey": f"push-{metric}-{ref}-{n}",
    }


def _drain_row(
    bench: Bench, database: str, metric: str, floor: FloorResult, reporter: Reporter
) -> dict[str, Any]:
    bench.ingest([_event(metric, ref, i) for i, ref in enumerate(bench.refs)])
    bench.analyze()
    cpu0 = bench.emulator.cpu_seconds()
    seconds, cpu = bench.drain()
    count = len(bench.refs)
    rate = count / seconds if seconds else 0.0
    floor_rate = floor.events / floor.seconds if floor.seconds else 0.0
    row = {
        "database": database,
        "scenario": "push_drain" if metric == V1 else "push_drain_v2",
        "events": count,
        "seconds": round(seconds, 2),
        "changes_per_s": round(rate, 1),
        "floor_events_per_s": round(floor_rate, 1),
        "floor_ratio": round(rate / floor_rate, 2) if floor_rate else None,
        "events_per_cpu_s": round(count / cpu, 1) if cpu else None,
        "floor_events_per_cpu_s": round(floor.events / floor.cpu_s, 1) if floor.cpu_s else None,
        "emulator_cpu_util": round((bench.emulator.cpu_seconds() - cpu0) / seconds, 2)
        if seconds
        else None,
        "floor_errors": floor.errors,
        "exact": bench.exact(metric),
    }
    reporter.log(
        f"{database} {row['scenario']}: {count} changes in {seconds:.2f} s "
        f"({row['changes_per_s']}/s; floor {row['floor_events_per_s']}/s, ratio "
        f"{row['floor_ratio']}; {row['events_per_cpu_s']} per pusher CPU-s), "
        f"exact={row['exact']}"
    )
    return row


def _floor(bench: Bench, transport: str) -> FloorResult:
    concurrency = UNCAPPED.concurrency
    if transport == "v1":
        return floor_v1(bench.emulator.url, KEY, FLOOR_V1, bench.refs, "v1", concurrency)
    return floor_v2(bench.emulator.url, KEY, FLOOR_V2, bench.refs, "v2", concurrency)


def run_push(database: str, url: str, profile: Profile, reporter: Reporter) -> list[dict[str, Any]]:
    store = Store(url)
    store.migrate()
    with EmulatorProcess() as emulator:
        count = _customers(profile)
        reporter.log(f"{database} push: creating {count} Stripe customers in the emulator")
        bench = Bench(store, emulator, count)
        rows = [
            _drain_row(bench, database, V1, _floor(bench, "v1"), reporter),
            _drain_row(bench, database, V2, _floor(bench, "v2"), reporter),
            _steady(bench, database, profile, reporter),
        ]
    store.close()
    return rows


def _lags(bench: Bench, since_us: int) -> list[float]:
    """Per event committed after ``since_us``: its commit to the ``sent`` of the first push
    of its counter whose ``pushed_after`` reaches the counter's total with the event in it
    (quantities are positive, so that push is the first that carried the event). Not "the
    first push planned after the commit": a plan's clock is read before its transaction and
    the commit's after it returns, so a plan can carry an event it seems to predate, and
    the event was then charged to the counter's next change, seconds later (README)."""
    pushes: dict[tuple[str, str], list[tuple[int, Decimal, int]]] = {}
    query = select(
        push_outbox.c.metric,
        push_outbox.c.customer_ref,
        push_outbox.c.seq,
        push_outbox.c.pushed_after,
        push_outbox.c.sent_us,
    ).where(push_outbox.c.metric.in_((V1, V2)))
    with bench.store.engine.connect() as conn:
        for metric, ref, seq, after, sent in conn.execute(query):
            if sent is not None:
                pushes.setdefault((metric, ref), []).append((seq, Decimal(after), sent))
    lags = []
    for done_us, metric, ref, total in bench.commits:
        if done_us < since_us:
            continue
        carried = (
            sent for _, after, sent in sorted(pushes.get((metric, ref), [])) if after >= total
        )
        sent_us = next(carried, None)
        if sent_us is not None:
            lags.append((sent_us - done_us) / 1e6)
    return sorted(lags)


def _settle(bench: Bench, limit_s: float = 60.0) -> float:
    """Seconds from the last ingest until the running loop has nothing left to send: three
    looks 0.1 s apart with nothing pending, so a plan ran in between and found nothing.
    The loop keeps running meanwhile: stopping it at the last ingest and draining with a
    fresh pass (a full sweep) charged the last half-second's events with a shutdown."""
    started, empty_since = time.monotonic(), None
    while (now := time.monotonic()) - started < limit_s:
        if bench.pending():
            empty_since = None
        elif empty_since is None:
            empty_since = now
        elif now - empty_since >= 0.3:
            break
        time.sleep(0.1)
    return (empty_since or time.monotonic()) - started


def _steady(bench: Bench, database: str, profile: Profile, reporter: Reporter) -> dict[str, Any]:
    stop, rng = threading.Event(), random.Random(11)
    loop = threading.Thread(target=bench.worker.run_forever, args=(stop, 0.1), daemon=True)
    since_us, sent = int(time.time() * 1e6), 0
    loop.start()
    duration, per_tick = _lag_seconds(profile), LAG_RATE // 10
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < duration:
        target = int(elapsed * LAG_RATE) + per_tick
        metric = V1 if (sent // per_tick) % 2 == 0 else V2
        bench.ingest(
            [
                _event(metric, rng.choice(bench.refs), 10**6 + sent + i)
                for i in range(max(0, target - sent))
            ]
        )
        sent = max(sent, target)
        time.sleep(0.1)
    seconds = time.monotonic() - started
    drain = _settle(bench)  # the loop sends the last changes, as it would under load
    stop.set()
    loop.join(timeout=60)
    bench.drain()  # nothing left, or the exactness check below would say so
    lags = _lags(bench, since_us)
    row = {
        "database": database,
        "scenario": "push_lag",
        "events": sent,
        "seconds": round(seconds, 1),
        "events_per_s": round(sent / seconds, 1),
        "lag_p50_s": round(lags[len(lags) // 2], 3) if lags else None,
        "lag_p99_s": round(lags[min(len(lags) - 1, len(lags) * 99 // 100)], 3) if lags else None,
        "lag_max_s": round(lags[-1], 3) if lags else None,
        "drain_s": round(drain, 2),
        "exact": bench.exact(V1) and bench.exact(V2),
    }
    reporter.log(
        f"{database} push_lag: {sent} changes at {row['events_per_s']}/s, lag p50 "
        f"{row['lag_p50_s']} s, p99 {row['lag_p99_s']} s, max {row['lag_max_s']} s, "
        f"drained in {drain:.2f} s, exact={row['exact']}"
    )
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the push benchmark alone on a scratch SQLite file (or a throwaway PostgreSQL)."""
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m benchmarks.push")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--smoke", action="store_true")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    profile = PROFILES["smoke"] if args.smoke else PROFILES["quick"] if args.quick else FULL
    reporter = Reporter(force_plain=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "sqlite":
            rows = run_push("sqlite", f"sqlite:///{tmp}/push.db", profile, reporter)
        else:
            from benchmarks.server import Postgres

            pg = Postgres()
            try:
                rows = run_push("postgres", pg.database("push"), profile, reporter)
            finally:
                pg.stop()
    from benchmarks.report import print_push_rows

    print_push_rows(rows)
    return 0 if all(r.get("exact") for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
