"""The one-statement billing read (ADR 0948) returns exactly what the repositories return,
and the burn-down computed from it is exactly the one computed through the repositories, on
the fake, SQLite and PostgreSQL (a hypothesis property: random usage in random batches,
grants taking effect at random days, some voided, none for one customer, random ``at``)."""

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
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER
from stripemeter_server.service.catalog.prices import encode_price
from stripemeter_server.service.credits.burn import BurnDown, burn_down, burn_from
from stripemeter_server.storage.unit_of_work import Store
from tests.contract.storage.test_burn_down_matches_fake import METRICS
from tests.contract.storage.test_properties import SETTINGS, split
from tests.support.fake_store import FakeStore
from tests.support.ledger import ingest, make_tenant

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
CUSTOMERS = ("cus_a", "cus_b", "cus_c")  # cus_c: never granted anything
PRICES = {
    "tokens": {"model": "per_unit", "currency": "usd", "unitAmount": "0.0020"},
    "images": {"model": "per_unit", "currency": "eur", "unitAmount": "0.05"},
}
usage = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from(["tokens", "images"]),
            "customerRef": st.sampled_from(CUSTOMERS),
            "quantity": st.decimals(min_value=0, max_value=5000, places=3).map(str),
            "ts": st.integers(0, 78 * 24).map(
                lambda hours: (
                    datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
                ).isoformat()
            ),
        }
    ),
    min_size=1,
    max_size=30,
).map(lambda rows: [{**row, "idempotencyKey": f"k{i}"} for i, row in enumerate(rows)])
grants = st.lists(
    st.tuples(
        st.sampled_from(["cus_a", "cus_b"]),
        st.decimals(min_value=1, max_value=500, places=2),
        st.sampled_from(["usd", "eur", "unit:tokens", "unit:images"]),
        st.integers(0, 80),  # days after Jan 1: effective at
        st.booleans(),  # voided
    ),
    max_size=5,
)


def prepare(store: Store | FakeStore, tenant: str, granted: list[Any]) -> None:
    if isinstance(store, FakeStore):
        store.add_tenant(tenant, NOW, METRICS)
    else:
        make_tenant(store, tenant, NOW, METRICS)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with store.unit_of_work(tenant) as uow:
        for code, body in PRICES.items():
            uow.prices.put(
                code, DEFAULT_CUSTOMER, encode_price(price_from_dict(body)), to_micros(NOW)
            )
        uow.prices.put("tokens", "cus_b", encode_price(price_from_dict(PRICES["images"])), 1)
        uow.mappings.put("tokens", '{"metric":"tokens","price":"price_1"}', to_micros(NOW))
        uow.customers.upsert(CustomerRecord("cus_a", "cus_stripe_a", 15, "Europe/Paris", 5, 6))
        for i, (customer, amount, denomination, day, voided) in enumerate(granted):
            grant_id = f"cg_{i:02d}"
            uow.credit_grants.add(
                CreditGrant(
                    grant_id,
                    customer,
                    amount,
                    denomination,
                    CreditCategory.PAID,
                    i % 3,
                    start + timedelta(days=day, hours=i),
                    idempotency_key=f"key-{i}",
                    created_at=start + timedelta(days=i % 2),
                )
            )
            if voided:
                uow.credit_grants.void(grant_id, to_micros(start + timedelta(days=day + 1)))
        uow.commit()


def _burn(found: BurnDown) -> str:
    """Everything the answers are made of, ``repr``'d: decimals keep their exponent."""
    return repr((found.periods, found.pool.drawn, found.prices, found.metrics, found.grants))


def compared(store: Store | FakeStore, tenant: str, at: datetime) -> list[str]:
    out = []
    now_us, at_us = to_micros(NOW), to_micros(at)
    with store.unit_of_work(tenant) as uow:
        for customer in CUSTOMERS:
            inputs = uow.billing_reads.billing_inputs(customer, now_us, at_us)
            grants_found = uow.credit_grants.for_customer(customer)
            since = min((to_micros(g.effective_at) for g in grants_found), default=None)
            started = uow.counters.find(customer_ref=customer, start_before_us=now_us)
            upto_at = uow.counters.find(customer_ref=customer, start_before_us=at_us + 1)
            assert repr(inputs.grants) == repr(grants_found)
            assert inputs.metrics == uow.metrics.all()
            assert repr(inputs.prices) == repr(uow.prices.for_customer(customer))
            assert inputs.mappings == uow.mappings.all()
            assert inputs.customer == uow.customers.get(customer)
            kept = [] if since is None else [c for c in started if c.period_end_us > since]
            assert repr(inputs.burning) == repr(kept)
            assert repr(inputs.containing) == repr([c for c in upto_at if c.period_end_us > at_us])
            through_repositories = burn_down(uow, customer, NOW)
            assert _burn(burn_from(inputs, NOW)) == _burn(through_repositories)
            out.append(_burn(through_repositories))
    return out


@SETTINGS
@given(
    stream=usage,
    cuts=st.lists(st.integers(0, 30), max_size=4),
    granted=grants,
    at_day=st.integers(30, 90),
)
def test_billing_inputs_are_the_repositories_reads_on_every_store(
    both_stores: list[Store],
    stream: list[dict[str, Any]],
    cuts: list[int],
    granted: list[Any],
    at_day: int,
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    at = datetime(2025, 1, 1, 7, tzinfo=UTC) + timedelta(days=at_day)
    outcomes = []
    stores: list[Store | FakeStore] = [FakeStore(), *both_stores]
    for store in stores:
        prepare(store, tenant, granted)
        for batch in split(stream, cuts):
            if batch:
                ingest(store, tenant, batch, NOW)  # type: ignore[arg-type]
        outcomes.append(compared(store, tenant, at))
    assert outcomes[1] == outcomes[0]
    assert outcomes[2] == outcomes[0]


def test_an_exact_decimal_keeps_its_exponent(both_stores: list[Store]) -> None:
    """Amounts and counter sums come back as the repositories give them (``5.10``, not
    ``5.1``): the answers print them."""
    for store in both_stores:
        tenant = f"t{uuid.uuid4().hex[:8]}"
        prepare(store, tenant, [("cus_a", Decimal("5.10"), "usd", 1, False)])
        ingest(
            store,
            tenant,
            [
                {
                    "metric": "tokens",
                    "customerRef": "cus_a",
                    "quantity": "2.500",
                    "ts": "2025-03-19T00:00:00+00:00",
                    "idempotencyKey": "k",
                }
            ],
            NOW,
        )
        with store.unit_of_work(tenant) as uow:
            inputs = uow.billing_reads.billing_inputs("cus_a", to_micros(NOW), to_micros(NOW))
        assert str(inputs.grants[0].amount) == "5.10"
        assert [str(c.state.sum) for c in inputs.burning] == ["2.500"]
