"""Every success response of every route, and every webhook body, is valid against Stripe's
published object types (ADR 0101): each route is driven through the official library and
the raw JSON it answered is checked field by field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from stripe_emulator.schemas import SCHEMAS
from tests.contract.stripe_emulator.conformance import check_response
from tests.contract.stripe_emulator.conformance_surface import drive_surface
from tests.contract.stripe_emulator.stripe_emulator_support import (
    T0,
    Receiver,
    make_meter,
    send_event,
)

# Routes with no current-version object to check: legacy usage records (pre-basil only)
# and the v2 stream, whose success body is `{}`.
NOT_CHECKED = {
    ("POST", "/v1/subscription_items/{id}/usage_records"),
    ("GET", "/v1/subscription_items/{id}/usage_record_summaries"),
    ("POST", "/v2/billing/meter_event_stream"),
}
Route = tuple[str, str]


def _raw(obj: Any) -> Any:
    response = obj.last_response
    assert response is not None
    return json.loads(response.body)


def drive(client: stripe.StripeClient, server: EmulatorServer) -> list[tuple[Route, Any]]:
    """Call every route once with realistic parameters; (route, raw JSON body) each."""
    seen: list[tuple[Route, Any]] = []

    def call(method: str, pattern: str, fn: Callable[[], Any]) -> Any:
        obj = fn()
        seen.append(((method, pattern), _raw(obj)))
        return obj

    v1 = client.v1
    cus = call(
        "POST",
        "/v1/customers",
        lambda: v1.customers.create(
            params={"name": "Acme", "email": "a@example.com", "metadata": {"ref": "acme"}}
        ),
    )
    call("GET", "/v1/customers", lambda: v1.customers.list())
    call(
        "GET",
        "/v1/customers/search",
        lambda: v1.customers.search(params={"query": "metadata['ref']:'acme'"}),
    )
    call("GET", "/v1/customers/{id}", lambda: v1.customers.retrieve(cus.id))
    call(
        "POST",
        "/v1/customers/{id}",
        lambda: v1.customers.update(cus.id, params={"description": "d"}),
    )
    prod = call("POST", "/v1/products", lambda: v1.products.create(params={"name": "Plan"}))
    call("GET", "/v1/products", lambda: v1.products.list())
    call("GET", "/v1/products/{id}", lambda: v1.products.retrieve(prod.id))
    meter = call("POST", "/v1/billing/meters", lambda: make_meter(client))
    plan = call(
        "POST",
        "/v1/prices",
        lambda: v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 1000,
                "product": prod.id,
                "recurring": {"interval": "month"},
            }
        ),
    )
    metered = v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount_decimal": "0.5",
            "product": prod.id,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    call("GET", "/v1/prices", lambda: v1.prices.list())
    call("GET", "/v1/prices/{id}", lambda: v1.prices.retrieve(plan.id))
    call("GET", "/v1/billing/meters", lambda: v1.billing.meters.list())
    call("GET", "/v1/billing/meters/{id}", lambda: v1.billing.meters.retrieve(meter.id))
    call(
        "POST",
        "/v1/billing/meters/{id}",
        lambda: v1.billing.meters.update(meter.id, params={"display_name": "API calls"}),
    )
    call(
        "POST",
        "/v1/billing/meter_events",
        lambda: send_event(client, cus.id, "3", identifier="e1", timestamp=T0 - 60),
    )
    call(
        "POST",
        "/v1/billing/meter_event_adjustments",
        lambda: v1.billing.meter_event_adjustments.create(
            params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "e1"}}
        ),
    )
    send_event(client, cus.id, "4", identifier="e2", timestamp=T0 - 60)
    call(
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
        lambda: v1.billing.meters.event_summaries.list(
            meter.id,
            params={
                "customer": cus.id,
                "start_time": T0 - 3600,
                "end_time": T0,
                "value_grouping_window": "hour",
            },
        ),
    )
    session = call(
        "POST",
        "/v2/billing/meter_event_session",
        lambda: client.v2.billing.meter_event_session.create(),
    )
    assert session.authentication_token
    call(
        "POST",
        "/v2/billing/meter_events",
        lambda: client.v2.billing.meter_events.create(
            params={
                "event_name": "api_calls",
                "identifier": "v2e",
                "payload": {"stripe_customer_id": cus.id, "value": "2"},
            }
        ),
    )
    call(
        "POST",
        "/v2/billing/meter_event_adjustments",
        lambda: client.v2.billing.meter_event_adjustments.create(
            params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "v2e"}}
        ),
    )
    sub = call(
        "POST",
        "/v1/subscriptions",
        lambda: v1.subscriptions.create(
            params={"customer": cus.id, "items": [{"price": plan.id}, {"price": metered.id}]}
        ),
    )
    call("GET", "/v1/subscriptions", lambda: v1.subscriptions.list())
    call("GET", "/v1/subscriptions/{id}", lambda: v1.subscriptions.retrieve(sub.id))
    inv = call(
        "POST",
        "/v1/invoices",
        lambda: v1.invoices.create(params={"customer": cus.id, "auto_advance": False}),
    )
    call(
        "POST",
        "/v1/invoiceitems",
        lambda: v1.invoice_items.create(
            params={"customer": cus.id, "invoice": inv.id, "amount": 250, "currency": "usd"}
        ),
    )
    priced = call(
        "POST",
        "/v1/invoiceitems",
        lambda: v1.invoice_items.create(
            params={
                "customer": cus.id,
                "invoice": inv.id,
                "pricing": {"price": plan.id},
                "quantity": 2,
            }
        ),
    )
    call("GET", "/v1/invoiceitems", lambda: v1.invoice_items.list())
    call("GET", "/v1/invoiceitems/{id}", lambda: v1.invoice_items.retrieve(priced.id))
    call(
        "POST",
        "/v1/invoiceitems/{id}",
        lambda: v1.invoice_items.update(priced.id, params={"description": "two"}),
    )
    call("GET", "/v1/invoices/{id}", lambda: v1.invoices.retrieve(inv.id))
    call(
        "POST",
        "/v1/invoices/{id}",
        lambda: v1.invoices.update(inv.id, params={"description": "manual"}),
    )
    call("GET", "/v1/invoices/{id}/lines", lambda: v1.invoices.line_items.list(inv.id))
    call("POST", "/v1/invoices/{id}/finalize", lambda: v1.invoices.finalize_invoice(inv.id))
    call(
        "POST",
        "/v1/invoices/{id}/pay",
        lambda: v1.invoices.pay(inv.id, params={"paid_out_of_band": True}),
    )
    other = v1.invoices.create(params={"customer": cus.id})
    v1.invoice_items.create(
        params={"customer": cus.id, "invoice": other.id, "amount": 100, "currency": "usd"}
    )
    v1.invoices.finalize_invoice(other.id)
    call("POST", "/v1/invoices/{id}/void", lambda: v1.invoices.void_invoice(other.id))
    draft = v1.invoices.create(params={"customer": cus.id})
    call("DELETE", "/v1/invoices/{id}", lambda: v1.invoices.delete(draft.id))
    server.control("POST", "/clock/advance", {"seconds": 32 * 86400})
    call("GET", "/v1/invoices", lambda: v1.invoices.list())
    call("DELETE", "/v1/subscriptions/{id}", lambda: v1.subscriptions.cancel(sub.id))
    hook = call(
        "POST",
        "/v1/webhook_endpoints",
        lambda: v1.webhook_endpoints.create(
            params={"url": "http://127.0.0.1:9/h", "enabled_events": ["*"]}
        ),
    )
    call("GET", "/v1/webhook_endpoints", lambda: v1.webhook_endpoints.list())
    call("GET", "/v1/webhook_endpoints/{id}", lambda: v1.webhook_endpoints.retrieve(hook.id))
    call(
        "POST",
        "/v1/webhook_endpoints/{id}",
        lambda: v1.webhook_endpoints.update(hook.id, params={"description": "h"}),
    )
    call("DELETE", "/v1/webhook_endpoints/{id}", lambda: v1.webhook_endpoints.delete(hook.id))
    events = call("GET", "/v1/events", lambda: v1.events.list(params={"limit": 100}))
    call("GET", "/v1/events/{id}", lambda: v1.events.retrieve(events.data[0].id))
    call(
        "POST", "/v1/billing/meters/{id}/deactivate", lambda: v1.billing.meters.deactivate(meter.id)
    )
    call(
        "POST", "/v1/billing/meters/{id}/reactivate", lambda: v1.billing.meters.reactivate(meter.id)
    )
    drive_surface(client, server, call)
    return seen


@pytest.fixture
def driven(client: stripe.StripeClient, server: EmulatorServer) -> list[tuple[Route, Any]]:
    return drive(client, server)


def test_every_route_is_driven(driven: list[tuple[Route, Any]]) -> None:
    assert {route for route, _ in driven} == set(SCHEMAS) - NOT_CHECKED


def test_every_success_response_is_valid_against_stripes_types(
    driven: list[tuple[Route, Any]],
) -> None:
    found = {f"{m} {p}": problems for (m, p), body in driven if (problems := check_response(body))}
    assert found == {}


def test_every_webhook_body_is_valid_against_stripes_types(
    client: stripe.StripeClient, server: EmulatorServer, receiver: Receiver
) -> None:
    client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    drive(client, server)
    server.control("POST", "/webhooks/deliver")
    bodies = [json.loads(body) for _headers, body in receiver.received]
    found = {body["type"]: problems for body in bodies if (problems := check_response(body))}
    assert bodies and found == {}
