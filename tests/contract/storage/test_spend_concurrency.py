"""A spend rule over all metrics sees what concurrent transactions committed (ADR 0012).

The failure it guards against: a customer at $5 + $5 gets +$6 on metric A in one transaction
and +$6 on metric B in another at the same instant; each sees $16 (its own part and the
other's old one), neither fires, and $22 is committed with no alert. Evaluation now takes a
per-customer lock before it reads, so the second reads the first's committed part."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import stamina

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.service.alerts.rules import create_rule
from stripemeter_server.service.catalog.prices import put_price
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store
from tests.support.ledger import ingest, make_tenant

METRICS = [{"code": "a", "aggregation": "sum"}, {"code": "b", "aggregation": "sum"}]
TS = "2025-01-10T00:00:00Z"


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    store = open_store("postgres", request, tmp_path)
    yield store
    store.close()


def _setup(store: Store, clock: FrozenClock, customers: list[str]) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        for code in ("a", "b"):
            put_price(
                uow,
                code,
                None,
                Parsed(
                    price_from_dict({"model": "per_unit", "currency": "usd", "unitAmount": "1"})
                ),
                clock.now(),
            )
        create_rule(
            uow, parse_new_rule({"type": "spend", "metric": None, "threshold": "20"}), clock.now()
        )
        uow.commit()
    ingest(
        store,
        "acme",
        [_event(m, c, "5", f"seed-{m}-{c}") for c in customers for m in ("a", "b")],
        clock.now(),
    )


def _event(metric: str, customer: str, quantity: str, key: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "customerRef": customer,
        "quantity": quantity,
        "ts": TS,
        "idempotencyKey": key,
    }


def _fired(store: Store) -> dict[str, int]:
    with store.unit_of_work("acme", read_only=True) as uow:
        found = uow.alerts.events(limit=10_000)
    counts: dict[str, int] = {}
    for event in found:
        counts[event.customer_ref] = counts.get(event.customer_ref, 0) + 1
    return counts


def _admin_url(store: Store) -> str:
    return store.url.replace("postgresql+psycopg://", "postgresql://")


def _wait_until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60  # a guard against a hang, not an assertion on timing
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the other transaction neither blocked nor finished")
        time.sleep(0.01)


def test_two_transactions_on_different_metrics_fire_the_crossing_once(
    pg: Store, clock: FrozenClock
) -> None:
    """The exact interleaving of the bug: T1 has added and evaluated (not committed) when T2
    adds to the other metric and evaluates. T2 must wait for T1 and then see $22."""
    _setup(pg, clock, ["cus_1"])
    limits = EventLimits()
    with pg.unit_of_work("acme") as first:
        ingest_batch(first, [_event("a", "cus_1", "6", "t1")], now=clock.now(), limits=limits)

        def second() -> None:
            with pg.unit_of_work("acme") as uow:
                ingest_batch(uow, [_event("b", "cus_1", "6", "t2")], now=clock.now(), limits=limits)
                uow.commit()

        with (
            ThreadPoolExecutor(1) as pool,
            psycopg.connect(_admin_url(pg), autocommit=True) as admin,
        ):
            other = pool.submit(second)

            def blocked_on_the_customer_lock() -> bool:
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ).fetchone()
                return bool(row and row[0])

            _wait_until(lambda: other.done() or blocked_on_the_customer_lock())
            assert not other.done(), "T2 evaluated without waiting for T1's commit"
            first.commit()
            other.result()
    assert _fired(pg) == {"cus_1": 1}


def test_many_customers_crossing_on_two_metrics_at_once_each_fire_once(
    pg: Store, clock: FrozenClock
) -> None:
    """The issue's scenario: 40 customers, each crossed by two concurrent transactions on
    different metrics (both transactions start together at a barrier)."""
    customers = [f"cus_{n}" for n in range(40)]
    _setup(pg, clock, customers)

    def add(metric: str, customer: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        for attempt in stamina.retry_context(on=RetryableConflict, attempts=10):
            with attempt:
                ingest(
                    pg, "acme", [_event(metric, customer, "6", f"{metric}-{customer}")], clock.now()
                )

    with ThreadPoolExecutor(2) as pool:
        for customer in customers:
            barrier = threading.Barrier(2)
            futures = [pool.submit(add, m, customer, barrier) for m in ("a", "b")]
            for future in futures:
                future.result()
    assert _fired(pg) == dict.fromkeys(customers, 1)
