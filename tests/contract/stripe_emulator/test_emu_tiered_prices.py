"""Tiered (graduated, volume), package (`transform_quantity`) and meter-backed prices: the
price objects Stripe returns and the amounts renewals bill from them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event

FEB_15 = 1771113600
TIERS = [
    {"up_to": 5, "unit_amount": 700},
    {"up_to": 10, "unit_amount": 650},
    {"up_to": "inf", "unit_amount": 600},
]


def _tiered(
    client: stripe.StripeClient,
    mode: str,
    tiers: list[dict[str, Any]] | None = None,
    **recurring: Any,
) -> Any:
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "product_data": {"name": "Fonts"},
            "billing_scheme": "tiered",
            "tiers_mode": mode,
            "tiers": tiers or TIERS,
            "recurring": {"interval": "month", **recurring},
        }
    )


def _first_invoice_total(
    client: stripe.StripeClient, customer: Any, price: Any, quantity: int
) -> int:
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": quantity}]}
    )
    return int(client.v1.invoices.retrieve(sub.latest_invoice).total)


def test_a_tiered_price_echoes_its_tiers(client: stripe.StripeClient) -> None:
    price = _tiered(client, "graduated")
    assert (
        price.billing_scheme,
        price.tiers_mode,
        price.unit_amount,
        [t.up_to for t in price.tiers],
        str(price.tiers[1].unit_amount_decimal),
    ) == ("tiered", "graduated", None, [5, 10, None], "650")


@pytest.mark.parametrize(("quantity", "total"), [(5, 3500), (6, 4150), (20, 12750)])
def test_graduated_bills_each_tier_its_own_rate(
    client: stripe.StripeClient, customer: Any, quantity: int, total: int
) -> None:
    price = _tiered(client, "graduated")
    assert _first_invoice_total(client, customer, price, quantity) == total


@pytest.mark.parametrize(("quantity", "total"), [(5, 3500), (6, 3900), (20, 12000)])
def test_volume_bills_all_units_at_the_reached_tier(
    client: stripe.StripeClient, customer: Any, quantity: int, total: int
) -> None:
    price = _tiered(client, "volume")
    assert _first_invoice_total(client, customer, price, quantity) == total


def test_a_flat_fee_tier_is_charged_even_without_usage(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> None:
    price = _tiered(
        client,
        "graduated",
        [
            {"up_to": 1000, "flat_amount": 5000, "unit_amount": 0},
            {"up_to": "inf", "unit_amount_decimal": "2.5"},
        ],
        usage_type="metered",
        meter=meter.id,
    )
    client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    created = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    assert client.v1.invoices.retrieve(created["invoices_created"][0]).total == 5000


def test_a_metered_tiered_price_bills_the_meters_usage(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> None:
    price = _tiered(
        client,
        "graduated",
        [
            {"up_to": 1000, "flat_amount": 5000, "unit_amount": 0},
            {"up_to": "inf", "unit_amount_decimal": "2.5"},
        ],
        usage_type="metered",
        meter=meter.id,
    )
    client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    send_event(client, customer.id, "1401", timestamp=T0 + 60)
    created = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    line = client.v1.invoices.retrieve(created["invoices_created"][0]).lines.data[0]
    assert (line.amount, line.quantity, line.period.end) == (5000 + 1003, 1401, FEB_15)


@pytest.mark.parametrize(("rounding", "total"), [("up", 3 * 500), ("down", 2 * 500)])
def test_a_package_price_divides_and_rounds_the_quantity(
    client: stripe.StripeClient, customer: Any, rounding: str, total: int
) -> None:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Packs"},
            "transform_quantity": {"divide_by": 10, "round": rounding},
            "recurring": {"interval": "month"},
        }
    )
    assert _first_invoice_total(client, customer, price, 25) == total


def test_tiers_without_an_unbounded_last_tier_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _tiered(client, "volume", [{"up_to": 5, "unit_amount": 1}])
    assert caught.value.param == "tiers[0][up_to]"


def test_a_tiered_price_without_tiers_mode_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(
            params={
                "currency": "usd",
                "product_data": {"name": "X"},
                "billing_scheme": "tiered",
                "tiers": TIERS,
                "recurring": {"interval": "month"},
            }
        )
    assert (caught.value.param, caught.value.code) == ("tiers_mode", "parameter_missing")
