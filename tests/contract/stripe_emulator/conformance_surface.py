"""Driving the billing surface beyond metering for the conformance test: every route of
`surface_schemas.ROUTES` called once through the official library, so test clocks,
subscription items, previews, credits, credit notes, balance transactions, alerts and v2
event destinations are checked against Stripe's object types like the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, make_meter, send_event

Call = Callable[[str, str, Callable[[], Any]], Any]


def _clocks(client: stripe.StripeClient, call: Call) -> None:
    clocks = client.v1.test_helpers.test_clocks
    clock = call(
        "POST",
        "/v1/test_helpers/test_clocks",
        lambda: clocks.create(params={"frozen_time": T0, "name": "march"}),
    )
    client.v1.customers.create(params={"test_clock": clock.id})
    call("GET", "/v1/test_helpers/test_clocks", lambda: clocks.list())
    call("GET", "/v1/test_helpers/test_clocks/{id}", lambda: clocks.retrieve(clock.id))
    call(
        "POST",
        "/v1/test_helpers/test_clocks/{id}/advance",
        lambda: clocks.advance(clock.id, params={"frozen_time": T0 + 86400}),
    )
    call("DELETE", "/v1/test_helpers/test_clocks/{id}", lambda: clocks.delete(clock.id))


def _subscription(client: stripe.StripeClient, call: Call, cus: Any, prices: dict[str, Any]) -> Any:
    v1 = client.v1
    fee = v1.prices.create(
        params={"currency": "usd", "unit_amount": 900, "product_data": {"name": "Setup"}}
    )
    sub = call(
        "POST",
        "/v1/subscriptions",
        lambda: v1.subscriptions.create(
            params={
                "customer": cus.id,
                "add_invoice_items": [{"price": fee.id, "quantity": 2}],
                "items": [{"price": prices["seat"].id, "quantity": 2}, {"price": prices["api"].id}],
            }
        ),
    )
    added = v1.invoice_items.list(params={"customer": cus.id}).data[0]
    call("GET", "/v1/invoiceitems/{id}", lambda: v1.invoice_items.retrieve(added.id))
    call(
        "POST",
        "/v1/subscriptions/{id}",
        lambda: v1.subscriptions.update(
            sub.id, params={"items": [{"id": sub["items"].data[0].id, "quantity": 3}]}
        ),
    )
    item = call(
        "POST",
        "/v1/subscription_items",
        lambda: v1.subscription_items.create(
            params={"subscription": sub.id, "price": prices["extra"].id}
        ),
    )
    call(
        "GET",
        "/v1/subscription_items",
        lambda: v1.subscription_items.list(params={"subscription": sub.id}),
    )
    call("GET", "/v1/subscription_items/{id}", lambda: v1.subscription_items.retrieve(item.id))
    call(
        "POST",
        "/v1/subscription_items/{id}",
        lambda: v1.subscription_items.update(item.id, params={"quantity": 2}),
    )
    call("DELETE", "/v1/subscription_items/{id}", lambda: v1.subscription_items.delete(item.id))
    call(
        "POST",
        "/v1/invoices/create_preview",
        lambda: v1.invoices.create_preview(params={"subscription": sub.id}),
    )
    return sub


def _credits(client: stripe.StripeClient, call: Call, cus: Any) -> None:
    grants, v1 = client.v1.billing.credit_grants, client.v1
    grant = call(
        "POST",
        "/v1/billing/credit_grants",
        lambda: grants.create(
            params={
                "customer": cus.id,
                "category": "promotional",
                "name": "Welcome",
                "applicability_config": {"scope": {"price_type": "metered"}},
                "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 500}},
            }
        ),
    )
    call("GET", "/v1/billing/credit_grants", lambda: grants.list(params={"customer": cus.id}))
    call("GET", "/v1/billing/credit_grants/{id}", lambda: grants.retrieve(grant.id))
    call(
        "POST",
        "/v1/billing/credit_grants/{id}",
        lambda: grants.update(grant.id, params={"metadata": {"k": "v"}}),
    )
    call(
        "GET",
        "/v1/billing/credit_balance_summary",
        lambda: v1.billing.credit_balance_summary.retrieve(
            params={
                "customer": cus.id,
                "filter": {
                    "type": "applicability_scope",
                    "applicability_scope": {"price_type": "metered"},
                },
            }
        ),
    )
    txns = call(
        "GET",
        "/v1/billing/credit_balance_transactions",
        lambda: v1.billing.credit_balance_transactions.list(params={"customer": cus.id}),
    )
    call(
        "GET",
        "/v1/billing/credit_balance_transactions/{id}",
        lambda: v1.billing.credit_balance_transactions.retrieve(txns.data[0].id),
    )
    call("POST", "/v1/billing/credit_grants/{id}/expire", lambda: grants.expire(grant.id))
    other = grants.create(
        params={
            "customer": cus.id,
            "category": "paid",
            "applicability_config": {"scope": {"price_type": "metered"}},
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 100}},
        }
    )
    call("POST", "/v1/billing/credit_grants/{id}/void", lambda: grants.void_grant(other.id))


def _balance(client: stripe.StripeClient, call: Call, cus: Any) -> None:
    txns = client.v1.customers.balance_transactions
    txn = call(
        "POST",
        "/v1/customers/{id}/balance_transactions",
        lambda: txns.create(
            cus.id, params={"amount": -300, "currency": "usd", "description": "goodwill"}
        ),
    )
    call("GET", "/v1/customers/{id}/balance_transactions", lambda: txns.list(cus.id))
    call(
        "GET",
        "/v1/customers/{id}/balance_transactions/{txn}",
        lambda: txns.retrieve(cus.id, txn.id),
    )
    call(
        "POST",
        "/v1/customers/{id}/balance_transactions/{txn}",
        lambda: txns.update(cus.id, txn.id, params={"description": "kept"}),
    )


def _invoice_ops(client: stripe.StripeClient, call: Call, cus: Any) -> None:
    v1 = client.v1
    draft = v1.invoices.create(params={"customer": cus.id, "auto_advance": False})
    item = v1.invoice_items.create(
        params={"customer": cus.id, "invoice": draft.id, "amount": 1000, "currency": "usd"}
    )
    line = v1.invoices.line_items.list(draft.id).data[0]
    call(
        "POST",
        "/v1/invoices/{id}/lines/{line}",
        lambda: v1.invoices.line_items.update(draft.id, line.id, params={"description": "changed"}),
    )
    gone = v1.invoice_items.create(params={"customer": cus.id, "amount": 5, "currency": "usd"})
    call("DELETE", "/v1/invoiceitems/{id}", lambda: v1.invoice_items.delete(gone.id))
    assert item.id
    v1.invoices.finalize_invoice(draft.id)
    notes = v1.credit_notes
    lines = {
        "invoice": draft.id,
        "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 100}],
    }
    call("GET", "/v1/credit_notes/preview", lambda: notes.preview(params=lines))
    call("GET", "/v1/credit_notes/preview/lines", lambda: notes.preview_lines.list(params=lines))
    note = call(
        "POST",
        "/v1/credit_notes",
        lambda: notes.create(params={**lines, "memo": "sorry", "reason": "duplicate"}),
    )
    call("GET", "/v1/credit_notes", lambda: notes.list(params={"invoice": draft.id}))
    call("GET", "/v1/credit_notes/{id}", lambda: notes.retrieve(note.id))
    call("GET", "/v1/credit_notes/{id}/lines", lambda: notes.line_items.list(note.id))
    call("POST", "/v1/credit_notes/{id}/void", lambda: notes.void_credit_note(note.id))
    call(
        "POST",
        "/v1/invoices/{id}/mark_uncollectible",
        lambda: v1.invoices.mark_uncollectible(draft.id),
    )


def _alerts(client: stripe.StripeClient, call: Call, cus: Any, meter: Any) -> None:
    alerts = client.v1.billing.alerts
    alert = call(
        "POST",
        "/v1/billing/alerts",
        lambda: alerts.create(
            params={
                "alert_type": "usage_threshold",
                "title": "Big spender",
                "usage_threshold": {"gte": 5, "meter": meter.id, "recurrence": "one_time"},
            }
        ),
    )
    send_event(client, cus.id, "6", event_name="surface_calls")
    call("GET", "/v1/billing/alerts", lambda: alerts.list())
    call("GET", "/v1/billing/alerts/{id}", lambda: alerts.retrieve(alert.id))
    call("POST", "/v1/billing/alerts/{id}/deactivate", lambda: alerts.deactivate(alert.id))
    call("POST", "/v1/billing/alerts/{id}/activate", lambda: alerts.activate(alert.id))
    call("POST", "/v1/billing/alerts/{id}/archive", lambda: alerts.archive(alert.id))


def _v2_events(client: stripe.StripeClient, server: EmulatorServer, call: Call) -> None:
    dests = client.v2.core.event_destinations
    dest = call(
        "POST",
        "/v2/core/event_destinations",
        lambda: dests.create(
            params={
                "name": "errors",
                "type": "webhook_endpoint",
                "event_payload": "thin",
                "enabled_events": ["v1.billing.meter.no_meter_found"],
                "webhook_endpoint": {"url": "http://127.0.0.1:9/x"},
            }
        ),
    )
    call("GET", "/v2/core/event_destinations", lambda: dests.list())
    call("GET", "/v2/core/event_destinations/{id}", lambda: dests.retrieve(dest.id))
    call("POST", "/v2/core/event_destinations/{id}/disable", lambda: dests.disable(dest.id))
    call("POST", "/v2/core/event_destinations/{id}/enable", lambda: dests.enable(dest.id))
    client.v1.billing.meter_events.create(
        params={
            "event_name": "no_such_meter",
            "payload": {"stripe_customer_id": "cus_x", "value": "1"},
        }
    )
    events = call("GET", "/v2/core/events", lambda: client.v2.core.events.list())
    call("GET", "/v2/core/events/{id}", lambda: client.v2.core.events.retrieve(events.data[0].id))
    call("DELETE", "/v2/core/event_destinations/{id}", lambda: dests.delete(dest.id))


def drive_surface(client: stripe.StripeClient, server: EmulatorServer, call: Call) -> None:
    """Call every billing-surface route once with realistic parameters."""
    v1 = client.v1
    _clocks(client, call)
    cus = v1.customers.create(params={"name": "Surface"})
    meter = make_meter(client, event_name="surface_calls")
    prices = {
        "seat": v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 1000,
                "product_data": {"name": "Seat"},
                "recurring": {"interval": "month"},
            }
        ),
        "extra": v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 200,
                "product_data": {"name": "Extra"},
                "recurring": {"interval": "month"},
            }
        ),
        "api": v1.prices.create(
            params={
                "currency": "usd",
                "product_data": {"name": "API"},
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": "inf", "unit_amount": 2}],
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            }
        ),
    }
    _subscription(client, call, cus, prices)
    _credits(client, call, cus)
    _balance(client, call, cus)
    _invoice_ops(client, call, cus)
    _alerts(client, call, cus, meter)
    _v2_events(client, server, call)
