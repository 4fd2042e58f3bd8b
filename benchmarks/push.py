"""Push benchmark: how fast the Stripe pusher drains changes into the emulator, and how far
behind it runs under steady ingest.

Runs in this process on its own fresh store (the served process's pusher must not share the
work): the pusher, the ingest loop and the emulator share this process's CPU, so the figures
are a floor for a dedicated `stripemeter worker`. The token bucket is lifted (Stripe's own
limits — 1000 meter events/s live, far less in test mode — cap real pushes; the default
buckets are 500/s and 25/s): the figure is the pusher's own capacity.

* ``push_drain``: one change for each of N customers, then passes until every change is
  sent; changes/s = N / time. Exact when Stripe's meter total equals the ledger for a sample.
* ``push_lag``: ingest at a steady rate while the pusher loop runs; the lag samples are the
  age of the oldest unsent outbox row (what ``stripemeter_push_lag_seconds`` reports), and
  ``drain_s`` is how long after ingest stops until Stripe has everything.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from benchmarks.config import Profile
from benchmarks.progress import Reporter
from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.mappings import put_mapping
from stripemeter_server.service.stripe_sync.meters import sync_tenant_meters
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool, StripeGateway
from stripemeter_server.workers.stripe_push import StripePushWorker

UNCAPPED = PushPolicy(rate_live=1e9, rate_test=1e9, batch=500)
METRIC = "push_sum"


def _customers(profile: Profile) -> int:
    return max(10, min(profile.customers // 5, 2000))


def _drain_limit(profile: Profile) -> float:
    """How long a drain may take: a safety bound, not a phase length (the ingest phases'
    20 s would cut a drain short on a busy machine and leave it inexact)."""
    return max(120.0, profile.time_limit_s)


def _lag_seconds(profile: Profile) -> float:
    return {"full": 20.0, "quick": 8.0}.get(profile.name, 2.0)


def _setup(store: Store, emulator: EmulatorServer, count: int) -> tuple[ServiceContext, list[str]]:
    credentials = StripeCredentials("sk_live_bench_push", api_base=emulator.url)
    ctx = ServiceContext(store=store, clock=SystemClock(),
                         stripe=StripeAccess(environment=credentials, factory=GatewayPool(
                             allowed_hosts=HostAllowList.of_urls(emulator.url))))
    now = ctx.clock.now()
    with store.unit_of_work("default") as uow:
        bootstrap(uow, now, None, auto_create_metrics=True)
        create_metric(uow, {"code": METRIC, "aggregation": "sum"}, now)
        put_mapping(uow, {"metric": METRIC}, now)
        uow.commit()
    sync_tenant_meters(ctx, "default")
    gateway = StripeGateway(credentials, allowed_hosts=HostAllowList.of_urls(emulator.url))
    refs = [str(gateway.call(lambda c, i=i: c.v1.customers.create(
        params={"name": f"bench {i}"})).id) for i in range(count)]
    return ctx, refs


def _ingest(ctx: ServiceContext, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 500):
        with ctx.store.unit_of_work("default") as uow:
            ingest_batch(uow, events[start:start + 500], now=ctx.clock.now(),
                         limits=EventLimits())
            uow.commit()


def _event(ref: str, n: int) -> dict[str, Any]:
    return {"metric": METRIC, "customerRef": ref, "quantity": str(1 + n % 7),
            "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "idempotencyKey": f"push-{ref}-{n}"}


def _pending(ctx: ServiceContext) -> tuple[int, int | None]:
    with ctx.store.unit_of_work(read_only=True) as uow:
        stats = uow.pushes.stats()
    return stats.pending, stats.oldest_pending_us


def _drain(ctx: ServiceContext, worker: StripePushWorker, limit_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        report = worker.run_once(full=True)
        if report.planned == 0 and report.claimed == 0 and _pending(ctx)[0] == 0:
            break
    return time.perf_counter() - started


def _exact(ctx: ServiceContext, emulator: EmulatorServer, refs: list[str],
           expected: dict[str, Decimal]) -> bool:
    gateway = StripeGateway(StripeCredentials("sk_live_bench_push", api_base=emulator.url),
                            allowed_hosts=HostAllowList.of_urls(emulator.url))
    meter = next(m for m in gateway.list_meters() if m.event_name == METRIC)
    day = int(time.time()) // 86400 * 86400
    sample = random.Random(7).sample(refs, min(50, len(refs)))
    return all(gateway.meter_total(meter.meter_id, ref, day - 40 * 86400, day + 2 * 86400)
               == expected.get(ref, Decimal(0)) for ref in sample)


def run_push(database: str, url: str, profile: Profile,
             reporter: Reporter) -> list[dict[str, Any]]:
    store = Store(url)
    store.migrate()
    config = EmulatorConfig(auto_deliver_webhooks=False, meter_event_concurrency_per_customer=False)
    with EmulatorServer(config) as emulator:
        count = _customers(profile)
        reporter.log(f"{database} push: creating {count} Stripe customers in the emulator")
        ctx, refs = _setup(store, emulator, count)
        expected: dict[str, Decimal] = {}
        events = [_event(ref, i) for i, ref in enumerate(refs)]
        for e in events:
            expected[e["customerRef"]] = expected.get(e["customerRef"], Decimal(0)) + \
                Decimal(e["quantity"])
        _ingest(ctx, events)
        worker = StripePushWorker(ctx, UNCAPPED)
        seconds = _drain(ctx, worker, _drain_limit(profile))
        drain_row = {"database": database, "scenario": "push_drain", "events": count,
                     "seconds": round(seconds, 2),
                     "changes_per_s": round(count / seconds, 1) if seconds else None,
                     "exact": _exact(ctx, emulator, refs, expected)}
        reporter.log(f"{database} push_drain: {count} changes in {seconds:.2f} s "
                     f"({drain_row['changes_per_s']}/s), exact={drain_row['exact']}")
        lag_row = _steady(ctx, emulator, worker, refs, expected, database, profile, reporter)
    store.close()
    return [drain_row, lag_row]


def _steady(ctx: ServiceContext, emulator: EmulatorServer, worker: StripePushWorker,
            refs: list[str], expected: dict[str, Decimal], database: str, profile: Profile,
            reporter: Reporter) -> dict[str, Any]:
    stop, lags, rng, sent = threading.Event(), [], random.Random(11), [0]
    loop = threading.Thread(target=worker.run_forever, args=(stop, 0.2), daemon=True)
    loop.start()
    duration, n = _lag_seconds(profile), len(refs)
    ends = time.monotonic() + duration
    while time.monotonic() < ends:
        batch = [_event(rng.choice(refs), n + sent[0] + i) for i in range(50)]
        for e in batch:
            expected[e["customerRef"]] = expected.get(e["customerRef"], Decimal(0)) + \
                Decimal(e["quantity"])
        _ingest(ctx, batch)
        sent[0] += len(batch)
        _, oldest = _pending(ctx)
        lags.append(0.0 if oldest is None else time.time() - oldest / 1e6)
        time.sleep(0.1)
    stop.set()
    loop.join(timeout=30)
    drain = _drain(ctx, worker, _drain_limit(profile))
    lags.sort()
    row = {"database": database, "scenario": "push_lag", "events": sent[0],
           "seconds": round(duration, 1), "events_per_s": round(sent[0] / duration, 1),
           "lag_p50_s": round(lags[len(lags) // 2], 2) if lags else None,
           "lag_max_s": round(lags[-1], 2) if lags else None, "drain_s": round(drain, 2),
           "exact": _exact(ctx, emulator, refs, expected)}
    reporter.log(f"{database} push_lag: {sent[0]} events at {row['events_per_s']}/s, lag p50 "
                 f"{row['lag_p50_s']} s, max {row['lag_max_s']} s, drained in {drain:.2f} s, "
                 f"exact={row['exact']}")
    return row
