"""Subscription changes: the invoice at creation, item and quantity changes with
prorations, `cancel_at_period_end`, cancelling with `invoice_now` / `prorate`, trials, and
`customer.subscription.updated` on renewal."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event

FEB_15 = 1771113600  # one month after T0
MAR_15 = 1773532800
HALF = (FEB_15 - T0) // 2  # the middle of the first period


def _price(client: stripe.StripeClient, amount: int = 1000, **extra: Any) -> Any:
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": amount,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
            **extra,
        }
    )


@pytest.fixture
def seat(client: stripe.StripeClient) -> Any:
    return _price(client)


@pytest.fixture
def sub(client: stripe.StripeClient, customer: Any, seat: Any) -> Any:
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id, "quantity": 2}]}
    )


def _advance(server: EmulatorServer, seconds: int) -> dict[str, Any]:
    result: dict[str, Any] = server.control("POST", "/clock/advance", {"seconds": seconds})
    return result


def test_creation_bills_the_first_period_in_advance(client: stripe.StripeClient, sub: Any) -> None:
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (
        invoice.billing_reason,
        invoice.status,
        invoice.total,
        invoice.lines.data[0].period.end,
    ) == ("subscription_create", "open", 2000, FEB_15)


def test_a_metered_only_subscription_opens_with_a_paid_zero_invoice(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    price = _price(
        client, 3, recurring={"interval": "month", "usage_type": "metered", "meter": meter.id}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.total, invoice.status) == (0, "paid")


def test_a_quantity_change_creates_prorations_for_the_rest_of_the_period(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    item = sub["items"].data[0]
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "quantity": 3}]})
    pending = client.v1.invoice_items.list(params={"pending": "true"}).data
    assert sorted((i.amount, i.proration) for i in pending) == [(-1000, True), (1500, True)]


def test_prorations_join_the_renewal_invoice(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    item = sub["items"].data[0]
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "quantity": 3}]})
    created = _advance(server, FEB_15 - T0 - HALF)["invoices_created"]
    invoice = client.v1.invoices.retrieve(created[0])
    assert invoice.total == 3000 + 1500 - 1000


def test_proration_behavior_none_changes_without_prorating(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    item = sub["items"].data[0]
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item.id, "quantity": 3}], "proration_behavior": "none"}
    )
    assert client.v1.invoice_items.list(params={"pending": "true"}).data == []


def test_always_invoice_bills_the_prorations_at_once(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    item = sub["items"].data[0]
    updated = client.v1.subscriptions.update(
        sub.id,
        params={"items": [{"id": item.id, "quantity": 3}], "proration_behavior": "always_invoice"},
    )
    invoice = client.v1.invoices.retrieve(updated.latest_invoice)
    assert (invoice.billing_reason, invoice.status, invoice.total) == (
        "subscription_update",
        "open",
        500,
    )


def test_an_update_emits_subscription_updated_with_previous_attributes(
    client: stripe.StripeClient, sub: Any
) -> None:
    client.v1.subscriptions.update(sub.id, params={"metadata": {"plan": "pro"}})
    event = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert (
        event.data.object.metadata.to_dict(),
        event.data.previous_attributes.metadata.to_dict(),
    ) == ({"plan": "pro"}, {})


def test_cancel_at_period_end_ends_the_subscription_at_renewal(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    flagged = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    _advance(server, FEB_15 - T0)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (flagged.cancel_at, ended.status, ended.ended_at) == (FEB_15, "canceled", FEB_15)


def test_cancel_at_beyond_the_current_period_ends_the_subscription_then(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    cancel_at = FEB_15 + 10 * 86400  # inside the second period
    client.v1.subscriptions.update(sub.id, params={"cancel_at": cancel_at})
    _advance(server, cancel_at - T0)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", cancel_at)


def test_cancel_at_on_creation_shortens_the_first_period(
    client: stripe.StripeClient, customer: Any, seat: Any
) -> None:
    cancel_at = T0 + 10 * 86400
    created = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], "cancel_at": cancel_at}
    )
    assert (created.cancel_at, created["items"].data[0].current_period_end) == (
        cancel_at,
        cancel_at,
    )


def test_cancel_at_on_creation_ends_the_subscription_then(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, seat: Any
) -> None:
    cancel_at = T0 + 10 * 86400
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], "cancel_at": cancel_at}
    )
    _advance(server, cancel_at - T0)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", cancel_at)


def test_adding_an_item_prorates_it(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    addon = _price(client, 400)
    item = client.v1.subscription_items.create(params={"subscription": sub.id, "price": addon.id})
    pending = client.v1.invoice_items.list(params={"pending": "true"}).data
    assert (item.price.id, [i.amount for i in pending]) == (addon.id, [200])


def test_subscription_items_are_listed_by_subscription(
    client: stripe.StripeClient, sub: Any
) -> None:
    listed = client.v1.subscription_items.list(params={"subscription": sub.id})
    assert [i.id for i in listed.data] == [sub["items"].data[0].id]


def test_deleting_the_last_item_is_refused(client: stripe.StripeClient, sub: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_items.delete(sub["items"].data[0].id)


def test_deleting_an_item_credits_its_unused_time(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    addon = client.v1.subscription_items.create(
        params={
            "subscription": sub.id,
            "price": _price(client, 400).id,
            "proration_behavior": "none",
        }
    )
    _advance(server, HALF)
    client.v1.subscription_items.delete(addon.id)
    pending = client.v1.invoice_items.list(params={"pending": "true"}).data
    assert [i.amount for i in pending] == [-200]


def test_cancel_with_invoice_now_bills_the_usage_so_far(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> None:
    price = _price(
        client, 3, recurring={"interval": "month", "usage_type": "metered", "meter": meter.id}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    send_event(client, customer.id, "10", timestamp=T0 + 60)
    _advance(server, HALF)
    canceled = client.v1.subscriptions.cancel(sub.id, params={"invoice_now": True})
    invoice = client.v1.invoices.retrieve(canceled.latest_invoice)
    assert (canceled.status, invoice.total, invoice.lines.data[0].period.end) == (
        "canceled",
        30,
        T0 + HALF,
    )


def test_cancel_with_prorate_credits_the_unused_time(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    _advance(server, HALF)
    client.v1.subscriptions.cancel(sub.id, params={"prorate": True})
    pending = client.v1.invoice_items.list(params={"pending": "true"}).data
    assert [i.amount for i in pending] == [-1000]


def test_a_trial_opens_with_a_zero_invoice_and_trialing_status(
    client: stripe.StripeClient, customer: Any, seat: Any
) -> None:
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], "trial_period_days": 14}
    )
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (sub.status, sub.trial_end, sub["items"].data[0].current_period_end, invoice.total) == (
        "trialing",
        T0 + 14 * 86400,
        T0 + 14 * 86400,
        0,
    )


def test_the_trial_end_starts_paid_periods(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, seat: Any
) -> None:
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], "trial_end": T0 + 86400}
    )
    created = _advance(server, 86400)["invoices_created"]
    after = client.v1.subscriptions.retrieve(sub.id)
    invoice = client.v1.invoices.retrieve(created[0])
    assert (after.status, invoice.total, after["items"].data[0].current_period_start) == (
        "active",
        1000,
        T0 + 86400,
    )


def test_trial_will_end_is_sent_three_days_ahead(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, seat: Any
) -> None:
    client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": seat.id}], "trial_period_days": 10}
    )
    _advance(server, 7 * 86400)
    assert client.v1.events.list(params={"type": "customer.subscription.trial_will_end"}).data


def test_renewal_emits_subscription_updated(
    client: stripe.StripeClient, server: EmulatorServer, sub: Any
) -> None:
    created = _advance(server, FEB_15 - T0)["invoices_created"]
    event = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert (
        event.data.object.latest_invoice,
        event.data.object["items"].data[0].current_period_end,
    ) == (created[0], MAR_15)


def test_cancel_at_period_end_at_creation_sets_cancel_at(
    client: stripe.StripeClient, customer: Any, seat: Any
) -> None:
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": seat.id}],
            "cancel_at_period_end": True,
        }
    )
    assert (sub.cancel_at_period_end, sub.cancel_at) == (True, FEB_15)


def test_a_subscription_ending_bills_its_last_periods_usage(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> None:
    price = _price(
        client, 3, recurring={"interval": "month", "usage_type": "metered", "meter": meter.id}
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "cancel_at_period_end": True,
        }
    )
    send_event(client, customer.id, "7", timestamp=T0 + 60)
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    created = _advance(server, FEB_15 - T0)["invoices_created"]
    assert (
        preview.total,
        client.v1.invoices.retrieve(created[0]).total,
        client.v1.subscriptions.retrieve(sub.id).status,
    ) == (21, 21, "canceled")
