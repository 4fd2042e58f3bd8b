"""``entitlement_usage`` alerts are exact on every store: the same random usage, in random
batches, fires on the fake, SQLite and PostgreSQL exactly the thresholds that the usage's
total per customer and month reaches (computed from scratch), each once; and concurrent
writers of one customer fire a crossing once."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import stamina
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.entitlements import Feature, FeatureKind, Grant
from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts.rules import create_rule
from stripemeter_server.service.entitlements.features import encode_feature
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.storage.unit_of_work import Store
from tests.contract.storage.test_properties import SETTINGS, split
from tests.support.fake_store import FakeStore
from tests.support.ledger import ingest, make_tenant

NOW = datetime(2025, 3, 20, tzinfo=UTC)
LIMIT = Decimal(100)
PERCENTS = ("50", "80", "100", "150")
CUSTOMERS = ("cus_a", "cus_b")

usage_events = st.lists(
    st.fixed_dictionaries(
        {
            "customerRef": st.sampled_from(CUSTOMERS),
            "quantity": st.decimals(min_value=0, max_value=60, places=2).map(str),
            "ts": st.integers(59, 78).map(  # March: February is closed (late events book to March)
                lambda day: (datetime(2025, 1, 1, 6, tzinfo=UTC) + timedelta(days=day)).isoformat()
            ),
        }
    ),
    min_size=1,
    max_size=30,
).map(
    lambda rows: [
        {**row, "metric": "tokens", "idempotencyKey": f"k{i}"} for i, row in enumerate(rows)
    ]
)


def prepare(store: Store | FakeStore, tenant: str) -> None:
    """A metered feature over ``tokens``, a limit of 100 for each customer, four rules."""
    if isinstance(store, FakeStore):
        store.add_tenant(tenant, NOW, [{"code": "tokens", "aggregation": "sum"}])
    else:
        make_tenant(store, tenant, NOW, [{"code": "tokens", "aggregation": "sum"}])
    feature = Feature("tokens", FeatureKind.METERED, metric="tokens")
    with store.unit_of_work(tenant) as uow:
        uow.features.put("tokens", "metered", encode_feature(feature), to_micros(NOW))
        for customer in CUSTOMERS:
            uow.grants.put(Grant(customer, "tokens", limit=LIMIT), to_micros(NOW))
        for percent in PERCENTS:
            create_rule(
                cast(UnitOfWork, uow),
                parse_new_rule(
                    {"type": "entitlement_usage", "feature": "tokens", "threshold": percent}
                ),
                NOW,
            )
        uow.commit()


def fired(store: Store | FakeStore, tenant: str) -> list[tuple[str, int, str]]:
    """(customer, period start, threshold) of every entitlement alert, sorted."""
    with store.unit_of_work(tenant) as uow:
        events = (
            cast(UnitOfWork, uow).alerts.events(limit=10_000)
            if not isinstance(store, FakeStore)
            else store.data.ledgers[tenant].alerts.events
        )
    return sorted(
        (e.customer_ref, e.period_start_us, json.loads(e.payload)["threshold"]) for e in events
    )


def expected(stream: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    totals: dict[tuple[str, int], Decimal] = {}
    for event in stream:
        ts = datetime.fromisoformat(event["ts"])
        key = (event["customerRef"], to_micros(ts.replace(day=1, hour=0)))
        totals[key] = totals.get(key, Decimal(0)) + Decimal(event["quantity"])
    return sorted(
        (customer, start, str(LIMIT * Decimal(p) / 100))
        for (customer, start), total in totals.items()
        for p in PERCENTS
        if total > 0 and total >= LIMIT * Decimal(p) / 100
    )


def _normalised(rows: list[tuple[str, int, str]]) -> list[tuple[str, int, Decimal]]:
    return sorted((c, s, Decimal(t)) for c, s, t in rows)


@SETTINGS
@given(stream=usage_events, cuts=st.lists(st.integers(0, 30), max_size=6))
def test_the_fake_and_both_stores_fire_exactly_the_thresholds_reached(
    both_stores: list[Store], stream: list[dict[str, Any]], cuts: list[int]
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    outcomes, accepted = [], set()
    stores: list[Store | FakeStore] = [FakeStore(), *both_stores]
    for store in stores:
        prepare(store, tenant)
        for batch in split(stream, cuts):
            if batch:
                result = ingest(store, tenant, batch, NOW)  # type: ignore[arg-type]
                accepted |= {r.idempotency_key for r in result.results if r.status == "accepted"}
        outcomes.append(_normalised(fired(store, tenant)))
    counted = [e for e in stream if e["idempotencyKey"] in accepted]
    assert outcomes == [_normalised(expected(counted))] * 3


def test_concurrent_writers_of_one_customer_fire_each_threshold_once(store: Store) -> None:
    """Twenty transactions of 10 each, started together: 100 % of 100 is crossed by one."""
    prepare(store, "acme")

    def add(n: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        for attempt in stamina.retry_context(on=RetryableConflict, attempts=20):
            with attempt:
                ingest(
                    store,
                    "acme",
                    [
                        {
                            "metric": "tokens",
                            "customerRef": "cus_a",
                            "quantity": "10",
                            "ts": "2025-03-10T00:00:00Z",
                            "idempotencyKey": f"c{n}",
                        }
                    ],
                    NOW,
                )

    barrier = threading.Barrier(20)
    with ThreadPoolExecutor(20) as pool:
        for future in [pool.submit(add, n, barrier) for n in range(20)]:
            future.result()
    assert [t for _, _, t in fired(store, "acme")] == ["100", "150", "50", "80"]
