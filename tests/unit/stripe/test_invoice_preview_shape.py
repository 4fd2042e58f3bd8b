"""Stripe's invoice preview read into the port's record, whatever the API version's shape."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.stripe.previews import invoice_preview, preview_line

LINE = {
    "amount": 21,
    "currency": "usd",
    "description": "7 Exports",
    "quantity": 7,
    "metadata": {"stripemeter_metric": "exports"},
}


def test_the_price_is_read_from_the_pricing_details() -> None:
    line = preview_line(
        {**LINE, "pricing": {"type": "price_details", "price_details": {"price": "price_1"}}}
    )
    assert (line.price, line.quantity, line.amount) == ("price_1", Decimal(7), 21)


def test_the_price_object_of_older_versions_is_read_too() -> None:
    assert preview_line({**LINE, "price": {"id": "price_2"}}).price == "price_2"


def test_a_decimal_quantity_is_preferred() -> None:
    assert preview_line({**LINE, "quantity_decimal": "7.25"}).quantity == Decimal("7.25")


def test_the_subscription_is_read_from_the_parent_details() -> None:
    preview = invoice_preview(
        {
            "currency": "usd",
            "subtotal": 21,
            "total": 21,
            "parent": {"subscription_details": {"subscription": "sub_1"}},
        },
        [LINE],
    )
    assert (preview.subscription, preview.total, len(preview.lines)) == ("sub_1", 21, 1)
