"""Clock-driven renewals: draft invoices, `invoice.created`, finalization after the grace
hour, metered usage on the renewal invoice."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, Receiver, send_event

FEB_15 = 1771113600  # one month after T0


@pytest.fixture
def subscription(client: stripe.StripeClient, customer: Any, meter: Any) -> Any:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )


def test_subscription_period_follows_the_anchor(subscription: Any) -> None:
    item = subscription["items"].data[0]  # basil moved periods onto the items
    assert (item.current_period_start, item.current_period_end) == (T0, FEB_15)


def test_renewal_creates_a_draft_for_the_ended_period(
    server: EmulatorServer, client: stripe.StripeClient, subscription: Any
) -> None:
    result = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    invoice = client.v1.invoices.retrieve(result["invoices_created"][0])
    assert (invoice.status, invoice.period_start, invoice.period_end) == ("draft", T0, FEB_15)


def test_renewal_bills_metered_usage(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, subscription: Any
) -> None:
    send_event(client, customer.id, "21", timestamp=T0 + 60)
    result = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    assert client.v1.invoices.retrieve(result["invoices_created"][0]).total == 42


def test_renewal_emits_invoice_created(
    server: EmulatorServer, client: stripe.StripeClient, subscription: Any
) -> None:
    server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})
    assert client.v1.events.list(params={"type": "invoice.created"}).data


def test_draft_finalizes_an_hour_after_successful_delivery(
    server: EmulatorServer,
    client: stripe.StripeClient,
    receiver: Receiver,
    customer: Any,
    meter: Any,
) -> None:
    client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["invoice.created"]}
    )
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    invoice_id = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})[
        "invoices_created"
    ][0]
    server.control("POST", "/webhooks/deliver")
    early = server.control("POST", "/clock/advance", {"seconds": 3599})["invoices_finalized"]
    late = server.control("POST", "/clock/advance", {"seconds": 1})["invoices_finalized"]
    assert (early, late) == ([], [invoice_id])


def test_without_listeners_draft_finalizes_after_grace(
    server: EmulatorServer, client: stripe.StripeClient, subscription: Any
) -> None:
    result = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0 + 3600})
    assert result["invoices_finalized"] == result["invoices_created"]


def test_future_anchor_ends_the_first_period_at_the_anchor(
    client: stripe.StripeClient, customer: Any
) -> None:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Plan"},
            "recurring": {"interval": "month"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "billing_cycle_anchor": T0 + 86400,
        }
    )
    assert sub["items"].data[0].current_period_end == T0 + 86400


def test_licensed_renewal_bills_the_next_period_in_advance(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any
) -> None:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Plan"},
            "recurring": {"interval": "month"},
        }
    )
    client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": 2}]}
    )
    invoice_id = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})[
        "invoices_created"
    ][0]
    line = client.v1.invoices.line_items.list(invoice_id).data[0]
    assert (line.amount, line.period.start) == (1000, FEB_15)
