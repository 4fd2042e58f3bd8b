"""Pushes go out several at once, but never two at a time for one customer and meter
(Stripe's rule): a port that watches the calls in flight proves both halves."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.ports.stripe import MeterEventOut, SentMeterEvent
from stripemeter_server.stripe.gateway import StripeGateway
from stripemeter_server.workers.stripe_push import StripePushWorker
from tests.integration.stripe_push.support import FAST, Env

BEFORE = (datetime(2025, 12, 14, tzinfo=UTC), datetime(2026, 1, 14, tzinfo=UTC))
AFTER = (datetime(2026, 1, 14, tzinfo=UTC), datetime(2026, 2, 14, tzinfo=UTC))


@dataclass
class WatchingGateway:
    """The real adapter, with the calls in flight counted per (customer, meter)."""

    inner: StripeGateway
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: Counter[tuple[str, str]] = field(default_factory=Counter)
    most_per_meter: int = 0
    most_overall: int = 0

    def send_meter_event(self, event: MeterEventOut) -> SentMeterEvent:
        key = (event.stripe_customer_id, event.event_name)
        with self.lock:
            self.in_flight[key] += 1
            self.most_per_meter = max(self.most_per_meter, self.in_flight[key])
            self.most_overall = max(self.most_overall, sum(self.in_flight.values()))
        try:
            time.sleep(0.05)  # widen the window in which an overlap would show
            return self.inner.send_meter_event(event)
        finally:
            with self.lock:
                self.in_flight[key] -= 1

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_calls_overlap_across_customers_but_not_within_one_customer_and_meter(env: Env) -> None:
    env.metric("api_calls")
    refs = [env.customer(f"c{i}") for i in range(4)]
    with env.store.unit_of_work("default") as uow:  # periods from the 14th: two open ones
        for ref in refs:
            uow.customers.upsert(CustomerRecord(ref, None, 14, "UTC", 0, 0))
        uow.commit()
    for ref in refs:  # two counters per customer and meter, both still open
        env.ingest(
            {
                "metric": "api_calls",
                "customerRef": ref,
                "quantity": "2",
                "ts": "2026-01-10T00:00:00Z",
            },
            {
                "metric": "api_calls",
                "customerRef": ref,
                "quantity": "3",
                "ts": "2026-01-14T12:00:00Z",
            },
        )
    watching = WatchingGateway(env.gateway)
    access = replace(env.ctx.stripe, factory=lambda _c: watching)  # type: ignore[arg-type]
    worker = StripePushWorker(replace(env.ctx, stripe=access), replace(FAST, concurrency=8))
    env.drain(worker)
    assert (watching.most_per_meter, watching.most_overall > 1) == (1, True)
    assert [
        (env.stripe_total("api_calls", ref, BEFORE), env.stripe_total("api_calls", ref, AFTER))
        for ref in refs
    ] == [(2, 3)] * len(refs)
