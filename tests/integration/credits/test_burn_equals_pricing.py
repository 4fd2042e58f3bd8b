"""The live burn-down equals pricing the same usage from scratch, however the events arrive:
in any order, split into batches of any size, on both stores (a hypothesis property; each
example is a new customer of the same store, so examples do not see each other)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.pricing import price_from_dict, quote
from stripemeter_server.domain.timestamps import format_timestamp
from tests.integration.credits.conftest import PRICE
from tests.support.app_client import Client

IMAGES = {"model": "per_unit", "currency": "usd", "unitAmount": "0.05"}
START = datetime(2025, 1, 1, tzinfo=UTC)

usage = st.lists(
    st.tuples(
        st.sampled_from(["tokens", "images"]),
        st.decimals(min_value=0, max_value=50_000, places=3),
        st.integers(0, 15 * 86_400),
    ),
    min_size=1,
    max_size=30,
)


def _from_scratch(items: list[tuple[str, Decimal, int]]) -> Decimal:
    total = Decimal(0)
    for metric, definition in (("tokens", PRICE), ("images", IMAGES)):
        quantities = [q for m, q, _ in items if m == metric]
        if quantities:
            total += quote(price_from_dict(definition), sum(quantities, Decimal(0))).amount
    return total


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=usage, order=st.randoms(), sizes=st.lists(st.integers(1, 7), min_size=30, max_size=30))
def test_burn_down_equals_pricing_from_scratch(
    client: Client, items: list[Any], order: Any, sizes: list[int]
) -> None:
    customer = f"cus_{uuid.uuid4().hex[:10]}"
    for key, amount, priority in (("cheap", "9000", 1), ("rest", "100000", 2)):
        assert (
            client.post(
                f"/v1/customers/{customer}/credit-grants",
                {
                    "amount": amount,
                    "currency": "usd",
                    "priority": priority,
                    "effectiveAt": "2025-01-01T00:00:00Z",
                    "idempotencyKey": f"{customer}-{key}",
                },
            ).status_code
            == 201
        )
    events = [
        {
            "metric": m,
            "customerRef": customer,
            "quantity": str(q),
            "ts": format_timestamp(START + timedelta(seconds=s)),
            "idempotencyKey": f"{customer}-e{i}",
        }
        for i, (m, q, s) in enumerate(items)
    ]
    shuffled = order.sample(events, len(events))
    for size in sizes:
        if shuffled:
            assert client.post("/v1/events/ingest", {"events": shuffled[:size]}).status_code in (
                200,
                201,
                202,
            )
            shuffled = shuffled[size:]
    body = client.get(f"/v1/customers/{customer}/credits").json()
    assert sum(Decimal(g["drawn"]) for g in body["grants"]) == _from_scratch(items)
