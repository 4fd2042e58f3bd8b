"""Subscription creation parameters beyond items and trials: `add_invoice_items` (one-time
charges on the first invoice) and `trial_from_plan` (the price's
`recurring[trial_period_days]`), through the official library."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0

DAY = 86400
FEB_15 = 1771113600  # one month after T0


def _seat(client: stripe.StripeClient, **recurring: Any) -> Any:
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1000,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month", **recurring},
        }
    )


def _setup_fee(client: stripe.StripeClient, amount: int = 5000) -> Any:
    return client.v1.prices.create(
        params={"currency": "usd", "unit_amount": amount, "product_data": {"name": "Setup"}}
    )


def _subscribe(client: stripe.StripeClient, customer: Any, seat: Any, **extra: Any) -> Any:
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], **extra}
    )


def _error(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_added_items_are_billed_on_the_first_invoice(
    client: stripe.StripeClient, customer: Any
) -> None:
    fee = _setup_fee(client)
    sub = _subscribe(
        client, customer, _seat(client), add_invoice_items=[{"price": fee.id, "quantity": 2}]
    )
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.total, sorted(line.amount for line in invoice.lines.data)) == (
        11000,
        [1000, 10000],
    )


def test_an_added_item_is_an_invoice_item_of_the_subscription(
    client: stripe.StripeClient, customer: Any
) -> None:
    sub = _subscribe(
        client,
        customer,
        _seat(client),
        add_invoice_items=[{"price": _setup_fee(client).id, "metadata": {"kind": "setup"}}],
    )
    items = client.v1.invoice_items.list(params={"customer": customer.id}).data
    assert [
        (i.invoice, i.parent.subscription_details.subscription, i.metadata["kind"]) for i in items
    ] == [(sub.latest_invoice, sub.id, "setup")]


def test_price_data_makes_an_inline_one_time_price(
    client: stripe.StripeClient, customer: Any
) -> None:
    product = client.v1.products.create(params={"name": "Onboarding"})
    sub = _subscribe(
        client,
        customer,
        _seat(client),
        add_invoice_items=[
            {"price_data": {"currency": "usd", "product": product.id, "unit_amount": 2500}}
        ],
    )
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.total == 3500


def test_added_items_are_not_billed_again_at_renewal(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any
) -> None:
    sub = _subscribe(
        client, customer, _seat(client), add_invoice_items=[{"price": _setup_fee(client).id}]
    )
    server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (renewal.billing_reason, renewal.total) == ("subscription_cycle", 1000)


def test_a_recurring_price_is_refused_and_nothing_is_created(
    client: stripe.StripeClient, customer: Any
) -> None:
    seat = _seat(client)
    error = _error(
        lambda: _subscribe(client, customer, seat, add_invoice_items=[{"price": seat.id}])
    )
    subs = client.v1.subscriptions.list(params={"customer": customer.id}).data
    assert (error.param, subs) == ("add_invoice_items[0][price]", [])


def test_a_discount_on_an_added_item_is_refused_as_not_modelled(
    client: stripe.StripeClient, customer: Any
) -> None:
    error = _error(
        lambda: _subscribe(
            client,
            customer,
            _seat(client),
            add_invoice_items=[
                {"price": _setup_fee(client).id, "discounts": [{"coupon": "LAUNCH"}]}
            ],
        )
    )
    assert (error.code, error.param) == (
        "emulator_parameter_not_modelled",
        "add_invoice_items[0][discounts]",
    )


def test_a_price_in_another_currency_is_refused(client: stripe.StripeClient, customer: Any) -> None:
    fee = client.v1.prices.create(
        params={"currency": "eur", "unit_amount": 100, "product_data": {"name": "Setup"}}
    )
    error = _error(
        lambda: _subscribe(client, customer, _seat(client), add_invoice_items=[{"price": fee.id}])
    )
    assert error.param == "add_invoice_items[0][price]"


def test_trial_from_plan_applies_the_price_trial(
    client: stripe.StripeClient, customer: Any
) -> None:
    sub = _subscribe(client, customer, _seat(client, trial_period_days=14), trial_from_plan=True)
    assert (sub.status, sub.trial_end) == ("trialing", T0 + 14 * DAY)


def test_a_price_keeps_its_trial_period_days(client: stripe.StripeClient) -> None:
    assert _seat(client, trial_period_days=7).recurring.trial_period_days == 7


def test_trial_from_plan_without_a_plan_trial_starts_at_once(
    client: stripe.StripeClient, customer: Any
) -> None:
    sub = _subscribe(client, customer, _seat(client), trial_from_plan=True)
    assert (sub.status, sub.trial_end) == ("active", None)


def test_trial_from_plan_with_trial_period_days_is_refused(
    client: stripe.StripeClient, customer: Any
) -> None:
    seat = _seat(client, trial_period_days=14)
    error = _error(
        lambda: _subscribe(client, customer, seat, trial_from_plan=True, trial_period_days=3)
    )
    assert error.param == "trial_from_plan"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fees=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 50)), min_size=1, max_size=4)
)
def test_the_first_invoice_is_the_seat_plus_every_added_item(
    client: stripe.StripeClient, fees: list[tuple[int, int]]
) -> None:
    customer = client.v1.customers.create(params={"name": "Prop"})
    added = [
        {"price": _setup_fee(client, amount).id, "quantity": quantity} for amount, quantity in fees
    ]
    sub = _subscribe(client, customer, _seat(client), add_invoice_items=added)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.total == 1000 + sum(amount * quantity for amount, quantity in fees)
