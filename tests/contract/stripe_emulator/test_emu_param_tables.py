"""The long tail of real parameters: echoed ones round-trip, ignored ones are accepted,
and ones the emulator does not model are refused with their own documented code."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator.params import NOT_MODELLED_CODE


def test_an_echoed_parameter_is_stored_and_returned(
    client: stripe.StripeClient, customer: Any
) -> None:
    created = client.v1.invoices.create(params={"customer": customer.id, "footer": "Thanks"})
    assert client.v1.invoices.retrieve(created.id).footer == "Thanks"


def test_an_echoed_hash_is_merged_into_the_objects_hash(
    client: stripe.StripeClient, customer: Any
) -> None:
    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"footer": "Net 30"}}
    )
    assert (updated.invoice_settings.footer, updated.invoice_settings.custom_fields) == (
        "Net 30",
        None,
    )


def test_an_ignored_parameter_is_accepted(client: stripe.StripeClient, customer: Any) -> None:
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": 100,
            "currency": "usd",
            "tax_code": "txcd_10000000",
        }
    )
    assert item.amount == 100


def test_a_parameter_not_modelled_is_refused_with_its_own_code(
    client: stripe.StripeClient, customer: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.invoices.create(
            params={"customer": customer.id, "discounts": [{"coupon": "SAVE"}]}
        )
    assert (info.value.code, info.value.param) == (NOT_MODELLED_CODE, "discounts")


def test_price_data_makes_an_inline_price_on_the_product(
    client: stripe.StripeClient, customer: Any
) -> None:
    product = client.v1.products.create(params={"name": "Seats"})
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "quantity": 3,
            "price_data": {"currency": "usd", "product": product.id, "unit_amount": 250},
        }
    )
    assert (item.amount, item.pricing.price_details.product) == (750, product.id)


def test_an_amount_only_item_gets_an_inline_price(
    client: stripe.StripeClient, customer: Any
) -> None:
    item = client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 300, "currency": "usd"}
    )
    price = client.v1.prices.retrieve(item.pricing.price_details.price)
    assert (price.unit_amount, price.active, price.type) == (300, False, "one_time")


def test_a_tiered_price_without_tiers_is_refused_like_stripe(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(
            params={
                "currency": "usd",
                "product_data": {"name": "T"},
                "billing_scheme": "tiered",
                "unit_amount": 1,
            }
        )
    assert (info.value.code, info.value.param) == ("parameter_missing", "tiers")


def test_transfer_lookup_key_moves_the_key_to_the_new_price(client: stripe.StripeClient) -> None:
    first = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1,
            "product_data": {"name": "A"},
            "lookup_key": "std",
        }
    )
    client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2,
            "lookup_key": "std",
            "product_data": {"name": "A"},
            "transfer_lookup_key": True,
        }
    )
    assert client.v1.prices.retrieve(first.id).lookup_key is None
