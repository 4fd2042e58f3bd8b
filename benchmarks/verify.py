"""Exactness checks: what the server reports must equal what the load generator sent.

Two independent checks per ingest scenario: (1) the per-response counts (every event
``accepted`` for new events, every event ``duplicate`` for replays, nothing rejected), and
(2) ``GET /v1/usage/current`` for a sample of customers (all of them in small modes)
compared, as exact decimals, with the totals computed client-side from the events.
"""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation
from typing import Any

from benchmarks.loadgen import LoadResult
from benchmarks.server import Client
from benchmarks.workload import Totals, customer_ref


def sample_customers(customers: int, size: int, *, seed: int = 7) -> list[str]:
    """Every customer when there are few, else a fixed random sample (same across runs)."""
    if customers <= size:
        return [customer_ref(i) for i in range(customers)]
    return [customer_ref(i) for i in sorted(random.Random(seed).sample(range(customers), size))]


def current_values(client: Client, customer: str) -> dict[str, Decimal]:
    status, body = client.call("GET", f"/v1/usage/current?customerRef={customer}")
    if status != 200:
        raise RuntimeError(f"usage/current {customer}: HTTP {status} {body}")
    out = {}
    for item in body["metrics"]:
        try:
            out[item["metric"]] = Decimal(str(item["value"]))
        except (InvalidOperation, KeyError):
            out[item["metric"]] = Decimal("NaN")
    return out


def check_totals(client: Client, totals: Totals, customers: list[str]) -> dict[str, Any]:
    """Compare the server's current usage with ``totals`` for ``customers``."""
    mismatches = []
    for customer in customers:
        got = current_values(client, customer)
        for metric, want in totals.expected(customer).items():
            if got.get(metric) != want:
                mismatches.append(f"{customer}/{metric}: got {got.get(metric)} want {want}")
    return {
        "customersChecked": len(customers),
        "mismatches": len(mismatches),
        "firstMismatches": mismatches[:5],
    }


def check_counts(
    load: LoadResult, *, planned_requests: int, completed_events: int, expect: str
) -> dict[str, Any]:
    """Per-response counts: ``expect`` is ``accepted`` or ``duplicates``. A phase may stop at
    its time limit before sending all ``planned_requests``; what counts is that every request
    sent was answered 200 and that the answers account for exactly the events they carried."""
    counts = {
        name: load.counts.get(name, 0)
        for name in ("accepted", "duplicates", "conflicts", "rejected")
    }
    all_ok = (
        set(load.statuses) <= {200} and len(load.completed) == load.requests and load.dropped == 0
    )
    ok = (
        all_ok
        and len(load.completed) > 0
        and counts[expect] == completed_events
        and sum(counts.values()) == completed_events
    )
    return {
        "ok": ok,
        "requestsCompleted": len(load.completed),
        "requestsPlanned": planned_requests,
        "eventsCompleted": completed_events,
        "dropped": load.dropped,
        "statuses": {str(k): v for k, v in load.statuses.items()},
        **counts,
    }


def snapshot(client: Client, customers: list[str]) -> dict[str, dict[str, Decimal]]:
    return {c: current_values(client, c) for c in customers}
