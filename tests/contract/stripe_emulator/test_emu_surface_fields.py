"""The billing-surface objects carry every field the official library types as required
(test clocks, credit grants and transactions, credit notes, balance transactions, alerts,
previews, prorations, v2 event destinations and error reports)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from stripe.billing import (
    Alert,
    AlertTriggered,
    CreditBalanceSummary,
    CreditBalanceTransaction,
    CreditGrant,
)
from stripe.events import V1BillingMeterErrorReportTriggeredEvent
from stripe.test_helpers import TestClock as ClockResource
from stripe.v2.core import EventDestination

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event
from tests.contract.stripe_emulator.test_emu_object_fields import missing_fields, raw

HALF = (1771113600 - T0) // 2
METERED_SCOPE = {"scope": {"price_type": "metered"}}


def _grant(client: stripe.StripeClient, customer: Any) -> Any:
    return client.v1.billing.credit_grants.create(
        params={
            "customer": customer.id,
            "applicability_config": METERED_SCOPE,
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 100}},
        }
    )


def _open_invoice(client: stripe.StripeClient, customer: Any) -> Any:
    draft = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "amount": 900, "currency": "usd"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)


def _seat_sub(client: stripe.StripeClient, customer: Any) -> Any:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1000,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
        }
    )
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )


def test_test_clock(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    assert missing_fields(ClockResource, raw(clock)) == []


def test_credit_grant_and_transaction(client: stripe.StripeClient, customer: Any) -> None:
    grant = _grant(client, customer)
    txn = client.v1.billing.credit_balance_transactions.list(params={"customer": customer.id})
    assert (
        missing_fields(CreditGrant, raw(grant))
        + missing_fields(CreditBalanceTransaction, raw(txn.data[0]))
        == []
    )


def test_credit_balance_summary(client: stripe.StripeClient, customer: Any) -> None:
    _grant(client, customer)
    summary = client.v1.billing.credit_balance_summary.retrieve(
        params={
            "customer": customer.id,
            "filter": {
                "type": "applicability_scope",
                "applicability_scope": {"price_type": "metered"},
            },
        }
    )
    assert missing_fields(CreditBalanceSummary, raw(summary)) == []


def test_credit_note_and_lines(client: stripe.StripeClient, customer: Any) -> None:
    invoice = _open_invoice(client, customer)
    note = client.v1.credit_notes.create(
        params={
            "invoice": invoice.id,
            "lines": [
                {
                    "type": "invoice_line_item",
                    "invoice_line_item": invoice.lines.data[0].id,
                    "amount": 100,
                }
            ],
        }
    )
    assert (
        missing_fields(stripe.CreditNote, raw(note))
        + missing_fields(stripe.CreditNoteLineItem, raw(note.lines.data[0]))
        == []
    )


def test_customer_balance_transaction(client: stripe.StripeClient, customer: Any) -> None:
    txn = client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -500, "currency": "usd"}
    )
    assert missing_fields(stripe.CustomerBalanceTransaction, raw(txn)) == []


def test_alert_and_alert_triggered(client: stripe.StripeClient, customer: Any, meter: Any) -> None:
    alert = client.v1.billing.alerts.create(
        params={
            "alert_type": "usage_threshold",
            "title": "t",
            "usage_threshold": {"gte": 1, "meter": meter.id, "recurrence": "one_time"},
        }
    )
    send_event(client, customer.id, "2")
    event = client.v1.events.list(params={"type": "billing.alert.triggered"}).data[0]
    assert (
        missing_fields(Alert, raw(alert)) + missing_fields(AlertTriggered, raw(event.data.object))
        == []
    )


def test_preview_invoice_and_lines(client: stripe.StripeClient, customer: Any) -> None:
    sub = _seat_sub(client, customer)
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert (
        missing_fields(stripe.Invoice, raw(preview))
        + missing_fields(stripe.InvoiceLineItem, raw(preview.lines.data[0]))
        == []
    )


def test_proration_item_and_updated_subscription(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any
) -> None:
    sub = _seat_sub(client, customer)
    server.control("POST", "/clock/advance", {"seconds": HALF})
    updated = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "quantity": 2}]}
    )
    item = client.v1.invoice_items.list(params={"pending": "true"}).data[0]
    assert (
        missing_fields(stripe.InvoiceItem, raw(item))
        + missing_fields(stripe.Subscription, raw(updated))
        + missing_fields(stripe.SubscriptionItem, raw(updated["items"].data[0]))
        == []
    )


@pytest.mark.parametrize("kind", ["destination", "error_report"])
def test_v2_event_destination_and_error_report(
    client: stripe.StripeClient, server: EmulatorServer, meter: Any, kind: str
) -> None:
    destination = client.v2.core.event_destinations.create(
        params={
            "name": "errors",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.error_report_triggered"],
            "webhook_endpoint": {"url": "http://127.0.0.1:9/hook"},
        }
    )
    send_event(client, "cus_missing", "1")
    report = client.v2.core.events.list(params={"object_id": meter.id}).data[0]
    found = (
        missing_fields(EventDestination, raw(destination))
        if kind == "destination"
        else missing_fields(V1BillingMeterErrorReportTriggeredEvent, raw(report))
    )
    assert found == []
