"""Version-dependent shapes: `2025-03-31.basil` and newer (the library's default) get the
new shape; a request pinned to an older version gets the old one."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0

FEB_15 = 1771113600
OLD = {"stripe_version": "2024-06-20"}


@pytest.fixture
def renewal(server: EmulatorServer, client: stripe.StripeClient, customer: Any) -> Any:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Plan"},
            "recurring": {"interval": "month"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    invoice_id = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})[
        "invoices_created"
    ][0]
    return sub, invoice_id, price


@pytest.fixture
def item(client: stripe.StripeClient, customer: Any) -> Any:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 7, "product_data": {"name": "Seats"}}
    )
    return client.v1.invoice_items.create(
        params={"customer": customer.id, "pricing": {"price": price.id}}
    )


def test_current_invoice_names_its_subscription_in_parent(
    client: stripe.StripeClient, renewal: Any
) -> None:
    invoice = client.v1.invoices.retrieve(renewal[1]).to_dict()
    assert "subscription" not in invoice
    assert invoice["parent"]["subscription_details"]["subscription"] == renewal[0].id


def test_old_version_invoice_has_top_level_subscription(
    client: stripe.StripeClient, renewal: Any
) -> None:
    invoice = client.v1.invoices.retrieve(renewal[1], options=OLD).to_dict()
    assert (invoice["subscription"], "parent" in invoice) == (renewal[0].id, False)


def test_current_line_has_pricing_not_price(client: stripe.StripeClient, renewal: Any) -> None:
    line = client.v1.invoices.line_items.list(renewal[1]).data[0].to_dict()
    assert "price" not in line and "subscription_item" not in line
    assert line["pricing"]["price_details"]["price"] == renewal[2].id


def test_old_version_line_has_price_and_subscription_item(
    client: stripe.StripeClient, renewal: Any
) -> None:
    line = client.v1.invoices.line_items.list(renewal[1], options=OLD).data[0].to_dict()
    assert (line["price"]["id"], line["subscription_item"], line["type"]) == (
        renewal[2].id,
        renewal[0]["items"].data[0].id,
        "subscription",
    )


def test_current_invoice_item_has_no_price(item: Any) -> None:
    assert "price" not in item.to_dict() and "unit_amount" not in item.to_dict()


def test_old_version_invoice_item_has_price_and_unit_amount(
    client: stripe.StripeClient, item: Any
) -> None:
    old = client.v1.invoice_items.retrieve(item.id, options=OLD).to_dict()
    assert (old["price"]["id"], old["unit_amount"], "pricing" in old) == (
        item.pricing.price_details.price,
        7,
        False,
    )


def test_current_subscription_has_no_top_level_period(renewal: Any) -> None:
    assert "current_period_end" not in renewal[0].to_dict()


def test_old_version_subscription_has_top_level_period(
    client: stripe.StripeClient, renewal: Any
) -> None:
    old = client.v1.subscriptions.retrieve(renewal[0].id, options=OLD)
    assert (old.current_period_start, old.current_period_end) == (FEB_15, 1773532800)


def test_listing_invoices_by_subscription_works_on_the_current_version(
    client: stripe.StripeClient, renewal: Any
) -> None:
    listed = client.v1.invoices.list(params={"subscription": renewal[0].id})
    # newest first: the renewal, then the invoice billed when the subscription was created
    assert [(i.id, i.billing_reason) for i in listed.data] == [
        (renewal[1], "subscription_cycle"),
        (renewal[0].latest_invoice, "subscription_create"),
    ]


def test_webhook_event_payload_uses_the_current_shape(
    client: stripe.StripeClient, renewal: Any
) -> None:
    event = client.v1.events.list(params={"type": "invoice.created"}).data[0]
    assert "subscription" not in event.data.object.to_dict()


def test_current_price_has_no_aggregate_usage(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1,
            "product_data": {"name": "M"},
            "recurring": {"interval": "month", "usage_type": "metered"},
        }
    )
    assert "aggregate_usage" not in price.recurring.to_dict()


def test_old_version_invoice_item_takes_a_unit_amount(
    client: stripe.StripeClient, customer: Any
) -> None:
    created = client.v1.invoice_items.create(
        params={"customer": customer.id, "quantity": 3, "unit_amount": 10, "currency": "usd"},
        options=OLD,
    )
    assert (created.amount, created.quantity) == (30, 3)


def test_current_version_refuses_an_invoice_items_unit_amount(
    client: stripe.StripeClient, customer: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.invoice_items.create(
            params={  # type: ignore[arg-type]
                "customer": customer.id,
                "quantity": 3,
                "unit_amount": 10,
                "currency": "usd",
            }
        )
    assert refused.value.param == "unit_amount"
