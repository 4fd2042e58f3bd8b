"""Legacy usage records, reached with raw_request and a pinned API version."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.contract.stripe_emulator.stripe_emulator_support import T0

LEGACY = "2024-06-20"


@pytest.fixture
def item(client: stripe.StripeClient, customer: Any) -> Any:
    legacy = {"stripe_version": LEGACY}  # aggregate_usage only exists before basil
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 3,
            "product_data": {"name": "Seats"},
            "recurring": {
                "interval": "month",
                "usage_type": "metered",
                "aggregate_usage": "last_during_period",
            },
        },
        options=legacy,
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}, options=legacy
    )
    return sub["items"]["data"][0]


def record(
    client: stripe.StripeClient,
    item: Any,
    quantity: int,
    ts: int,
    action: str,
    version: str = LEGACY,
) -> Any:
    return client.raw_request(
        "post",
        f"/v1/subscription_items/{item['id']}/usage_records",
        quantity=quantity,
        timestamp=ts,
        action=action,
        stripe_version=version,
    )


def summary(client: stripe.StripeClient, item: Any) -> Any:
    resp = client.raw_request(
        "get", f"/v1/subscription_items/{item['id']}/usage_record_summaries", stripe_version=LEGACY
    )
    return client.deserialize(resp, api_mode="V1")


def test_usage_record_is_created(client: stripe.StripeClient, item: Any) -> None:
    created = client.deserialize(record(client, item, 5, T0, "increment"), api_mode="V1")
    assert (created.object, created.quantity) == ("usage_record", 5)


def test_set_replaces_the_value_at_a_timestamp(client: stripe.StripeClient, item: Any) -> None:
    record(client, item, 5, T0, "increment")
    record(client, item, 8, T0, "set")
    assert summary(client, item).data[0].total_usage == 8


def test_increment_adds_at_the_same_timestamp(client: stripe.StripeClient, item: Any) -> None:
    record(client, item, 5, T0, "increment")
    record(client, item, 2, T0, "increment")
    assert summary(client, item).data[0].total_usage == 7


def test_timestamp_before_the_period_is_rejected(client: stripe.StripeClient, item: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        record(client, item, 5, T0 - 60, "set")
    assert info.value.param == "timestamp"


def test_current_api_version_has_no_usage_records(client: stripe.StripeClient, item: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        record(client, item, 5, T0, "set", version="2025-03-31.basil")


def test_a_subscription_item_is_retrievable_with_its_price(
    client: stripe.StripeClient, item: Any
) -> None:
    fetched = client.v1.subscription_items.retrieve(item["id"])
    assert (fetched.id, fetched.price.id) == (item["id"], item["price"]["id"])
