"""Concurrent writers on the same counters: no deadlock escapes, totals stay exact."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import stamina

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import make_tenant


def ingest_retrying(store: Store, events: list[dict[str, object]], clock: FrozenClock) -> None:
    for attempt in stamina.retry_context(on=RetryableConflict, attempts=10, wait_initial=0.01):
        with attempt, store.unit_of_work("acme") as uow:
            ingest_batch(uow, events, now=clock.now(), limits=EventLimits())
            uow.commit()


def test_overlapping_concurrent_batches_count_exactly(store: Store, clock: FrozenClock) -> None:
    make_tenant(
        store,
        "acme",
        clock.now(),
        [{"code": "calls", "aggregation": "sum"}, {"code": "users", "aggregation": "unique_count"}],
    )
    events = [
        {
            "metric": m,
            "customerRef": f"c{i % 40}",
            "quantity": "1",
            "ts": "2025-01-16T14:00:00Z",
            "resourceId": f"r{i % 13}",
            "idempotencyKey": f"{m}{i}",
        }
        for i in range(400)
        for m in ("calls", "users")
    ]
    rng = random.Random(7)
    batches = [rng.sample(events, 120) for _ in range(16)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda b: ingest_retrying(store, b, clock), batches))
    sent = {e["idempotencyKey"]: e for b in batches for e in b}
    with store.unit_of_work("acme", read_only=True) as uow:
        calls = sum(
            (current_usage(uow, f"c{c}", clock.now(), "calls")[0].value or Decimal(0))
            for c in range(40)
        )
        users = {c: current_usage(uow, f"c{c}", clock.now(), "users")[0].value for c in range(40)}
    assert calls == sum(1 for e in sent.values() if e["metric"] == "calls")
    expected_users = {
        c: len(
            {
                e["resourceId"]
                for e in sent.values()
                if e["metric"] == "users" and e["customerRef"] == f"c{c}"
            }
        )
        for c in range(40)
    }
    assert {c: int(v or 0) for c, v in users.items()} == expected_users
