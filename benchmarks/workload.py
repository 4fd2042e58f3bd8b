"""Deterministic events, their pre-serialised request bodies and the totals they must produce.

Bodies are built (and serialised to bytes) before any timed phase, so the load generator
spends its CPU on sockets, not on JSON. Every event carries an explicit ``ts`` inside the
current month and an explicit idempotency key, so a replay is a pure duplicate. Quantities
are JSON numbers with two decimals (``12.34``), which the server and the floor both parse
as exact decimals.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchmarks.config import HEADLINE_METRICS, RESOURCES_PER_CUSTOMER

# ``json.dumps`` writes the quantity as a string; this turns it into a JSON number, unchanged.
_QUANTITY = re.compile(rb'"quantity":"([0-9]+\.[0-9]+)"')


@dataclass(frozen=True, slots=True)
class Event:
    """One generated event; ``quantity`` is a decimal string with two decimals."""

    key: str
    metric: str
    customer: str
    quantity: str
    resource: str
    ts: str

    def as_json(self) -> dict[str, str]:
        return {
            "metric": self.metric,
            "customerRef": self.customer,
            "quantity": self.quantity,
            "resourceId": self.resource,
            "ts": self.ts,
            "idempotencyKey": self.key,
        }


def customer_ref(index: int) -> str:
    return f"cus_bench_{index:05d}"


def month_window(now: datetime) -> tuple[datetime, datetime]:
    """Timestamps are drawn from [start of this UTC month, now - 1 s): always an open period."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = now - timedelta(seconds=1)
    return start, max(end, start + timedelta(microseconds=1))


def generate(
    prefix: str,
    count: int,
    customers: int,
    *,
    seed: int,
    now: datetime | None = None,
    metrics: Sequence[str] = HEADLINE_METRICS,
) -> list[Event]:
    """``count`` events spread at random over ``customers`` customers, round-robin over
    ``metrics`` (one sum metric unless told otherwise)."""
    rng = random.Random(seed)
    start, end = month_window(now or datetime.now(UTC))
    span_us = int((end - start).total_seconds() * 1_000_000)
    events = []
    for i in range(count):
        ts = start + timedelta(microseconds=rng.randrange(span_us))
        cents = rng.randrange(1, 100_000)
        events.append(
            Event(
                key=f"{prefix}-{i:07d}",
                metric=metrics[i % len(metrics)],
                customer=customer_ref(rng.randrange(customers)),
                quantity=f"{cents // 100}.{cents % 100:02d}",
                resource=f"res_{rng.randrange(RESOURCES_PER_CUSTOMER)}",
                ts=ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            )
        )
    return events


def bodies(events: Sequence[Event], batch_size: int) -> list[tuple[bytes, int]]:
    """Ingest request bodies as (bytes, event count), in order."""
    out = []
    for offset in range(0, len(events), batch_size):
        chunk = events[offset : offset + batch_size]
        payload = {"events": [e.as_json() for e in chunk]}
        body = json.dumps(payload, separators=(",", ":")).encode()
        out.append((_QUANTITY.sub(rb'"quantity":\1', body), len(chunk)))
    return out


@dataclass
class Totals:
    """Expected value of every (customer, metric): sum, count, distinct resources."""

    sums: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    uniques: dict[str, set[str]] = field(default_factory=dict)
    events: int = 0

    def add(self, events: Iterable[Event]) -> None:
        for e in events:
            self.events += 1
            if e.metric == "bench_sum":
                self.sums[e.customer] = self.sums.get(e.customer, Decimal(0)) + Decimal(e.quantity)
            elif e.metric == "bench_count":
                self.counts[e.customer] = self.counts.get(e.customer, 0) + 1
            else:
                self.uniques.setdefault(e.customer, set()).add(e.resource)

    def expected(self, customer: str) -> dict[str, Decimal]:
        """What ``GET /v1/usage/current`` must report for ``customer``, per metric."""
        return {
            "bench_sum": self.sums.get(customer, Decimal(0)),
            "bench_count": Decimal(self.counts.get(customer, 0)),
            "bench_unique": Decimal(len(self.uniques.get(customer, ()))),
        }
