"""Control routes that change Stripe-side state behind the client's back (drift injection
for reconciliation tests): invoice items on drafts, meter events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event


@pytest.fixture
def drafted(client: stripe.StripeClient, customer: Any) -> Any:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount_decimal": "0.5", "product_data": {"name": "API"}}
    )
    draft = client.v1.invoices.create(params={"customer": customer.id})
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "pricing": {"price": price.id},
            "quantity": 100,
        }
    )
    return draft, item


def summary(client: stripe.StripeClient, meter: Any, customer: Any) -> Any:
    return (
        client.v1.billing.meters.event_summaries.list(
            meter.id,
            params={
                "customer": customer.id,
                "start_time": T0 - 3600,
                "end_time": T0 + 3600,
            },
        )
        .data[0]
        .aggregated_value
    )


def test_editing_quantity_reprices_the_item(
    server: EmulatorServer, client: stripe.StripeClient, drafted: Any
) -> None:
    server.control("POST", f"/invoice_items/{drafted[1].id}", {"quantity": 300})
    item = client.v1.invoice_items.retrieve(drafted[1].id)
    assert (item.quantity, item.amount) == (300, 150)


def test_editing_quantity_updates_the_invoice_total(
    server: EmulatorServer, client: stripe.StripeClient, drafted: Any
) -> None:
    server.control("POST", f"/invoice_items/{drafted[1].id}", {"quantity": 300})
    invoice = client.v1.invoices.retrieve(drafted[0].id)
    assert (invoice.total, invoice.lines.data[0].quantity) == (150, 300)


def test_editing_amount_sets_it_directly(
    server: EmulatorServer, client: stripe.StripeClient, drafted: Any
) -> None:
    server.control("POST", f"/invoice_items/{drafted[1].id}", {"amount": 999})
    assert client.v1.invoices.retrieve(drafted[0].id).amount_due == 999


def test_items_on_finalized_invoices_cannot_be_edited(
    server: EmulatorServer, client: stripe.StripeClient, drafted: Any
) -> None:
    client.v1.invoices.finalize_invoice(drafted[0].id)
    with pytest.raises(httpx.HTTPStatusError) as info:
        server.control("POST", f"/invoice_items/{drafted[1].id}", {"quantity": 1})
    assert info.value.response.status_code == 400


def test_removing_an_item_drops_its_line(
    server: EmulatorServer, client: stripe.StripeClient, drafted: Any
) -> None:
    server.control("DELETE", f"/invoice_items/{drafted[1].id}")
    invoice = client.v1.invoices.retrieve(drafted[0].id)
    assert (invoice.total, invoice.lines.data) == (0, [])


def test_added_meter_event_counts_in_summaries(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "5")
    server.control(
        "POST",
        "/meter_events",
        {
            "event_name": "api_calls",
            "identifier": "drift-1",
            "timestamp": T0,
            "payload": {"stripe_customer_id": customer.id, "value": "7"},
        },
    )
    assert summary(client, meter, customer) == 12


def test_added_meter_event_follows_the_identifier_rule(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "5", identifier="same")
    with pytest.raises(httpx.HTTPStatusError) as info:
        server.control(
            "POST",
            "/meter_events",
            {
                "event_name": "api_calls",
                "identifier": "same",
                "payload": {"stripe_customer_id": customer.id, "value": "7"},
            },
        )
    assert info.value.response.json()["error"]["code"] == "duplicate_meter_event"


def test_cancelled_meter_event_leaves_summaries(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "5", identifier="keep")
    send_event(client, customer.id, "3", identifier="gone")
    server.control("POST", "/meter_events/gone/cancel")
    assert summary(client, meter, customer) == 5


def test_control_cancel_works_after_the_24_hour_api_window(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    send_event(client, customer.id, "3", identifier="old")
    server.control("POST", "/clock/advance", {"seconds": 2 * 86400})
    result = server.control("POST", "/meter_events/old/cancel")
    assert result["cancelled_at"] == T0 + 2 * 86400
