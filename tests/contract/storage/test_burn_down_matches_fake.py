"""The credit burn-down is the same on the fake, SQLite and PostgreSQL: the same grants and
the same random usage, in random batches and order, draw exactly the same amount from each
grant on every store (a hypothesis property; pricing from scratch is checked against one
store over HTTP in tests/integration/credits/test_burn_equals_pricing.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.credits import CreditCategory, CreditGrant
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER
from stripemeter_server.service.catalog.prices import encode_price
from stripemeter_server.service.credits.burn import burn_down
from stripemeter_server.storage.unit_of_work import Store
from tests.contract.storage.test_properties import SETTINGS, split
from tests.support.fake_store import FakeStore
from tests.support.ledger import ingest, make_tenant

NOW = datetime(2025, 3, 20, tzinfo=UTC)
METRICS = [{"code": "tokens", "aggregation": "sum"}, {"code": "images", "aggregation": "sum"}]
PRICES: dict[str, dict[str, Any]] = {
    "tokens": {
        "model": "graduated",
        "currency": "usd",
        "minimum": "1",
        "tiers": [{"upTo": "1000", "unitAmount": "0"}, {"upTo": None, "unitAmount": "0.002"}],
    },
    "images": {"model": "per_unit", "currency": "usd", "unitAmount": "0.05"},
}
GRANTS = [
    ("cheap", Decimal(30), 1, None),
    ("units", Decimal(500), 5, "tokens"),
    ("rest", Decimal(1000), 10, None),
]

usage = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from(["tokens", "images"]),
            "customerRef": st.sampled_from(["cus_a", "cus_b"]),
            "quantity": st.decimals(min_value=0, max_value=5000, places=3).map(str),
            "ts": st.integers(59, 78).map(
                lambda day: (datetime(2025, 1, 1, 6, tzinfo=UTC) + timedelta(days=day)).isoformat()
            ),
        }
    ),
    min_size=1,
    max_size=30,
).map(lambda rows: [{**row, "idempotencyKey": f"k{i}"} for i, row in enumerate(rows)])


def prepare(store: Store | FakeStore, tenant: str) -> None:
    if isinstance(store, FakeStore):
        store.add_tenant(tenant, NOW, METRICS)
    else:
        make_tenant(store, tenant, NOW, METRICS)
    with store.unit_of_work(tenant) as uow:
        for code, body in PRICES.items():
            uow.prices.put(
                code, DEFAULT_CUSTOMER, encode_price(price_from_dict(body)), to_micros(NOW)
            )
        for customer in ("cus_a", "cus_b"):
            for key, amount, priority, unit in GRANTS:
                uow.credit_grants.add(
                    CreditGrant(
                        f"cg_{customer}_{key}",
                        customer,
                        amount,
                        f"unit:{unit}" if unit else "usd",
                        CreditCategory.PAID,
                        priority,
                        datetime(2025, 1, 1, tzinfo=UTC),
                        idempotency_key=f"{customer}-{key}",
                    )
                )
        uow.commit()


def drawn(store: Store | FakeStore, tenant: str) -> dict[str, Decimal]:
    found = {}
    with store.unit_of_work(tenant) as uow:
        for customer in ("cus_a", "cus_b"):
            pool = burn_down(uow, customer, NOW).pool
            found.update({k: v.normalize() for k, v in pool.drawn.items()})
    return found


@SETTINGS
@given(stream=usage, cuts=st.lists(st.integers(0, 30), max_size=6), order=st.randoms())
def test_the_fake_and_both_stores_burn_the_same(
    both_stores: list[Store], stream: list[dict[str, Any]], cuts: list[int], order: Any
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    shuffled = order.sample(stream, len(stream))
    outcomes = []
    stores: list[Store | FakeStore] = [FakeStore(), *both_stores]
    for store in stores:
        prepare(store, tenant)
        for batch in split(shuffled, cuts):
            if batch:
                ingest(store, tenant, batch, NOW)  # type: ignore[arg-type]
        outcomes.append(drawn(store, tenant))
    assert outcomes[1] == outcomes[0]
    assert outcomes[2] == outcomes[0]
