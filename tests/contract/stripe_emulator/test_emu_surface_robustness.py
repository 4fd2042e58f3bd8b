"""No parameter shape makes a billing-surface route answer 5xx: every declared parameter is
sent as a string, a huge number, a hash and an array, against real objects, and every
answer must be a 2xx or a 4xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator import EmulatorServer
from stripe_emulator.params import Obj
from stripe_emulator.surface_schemas import EXTENSIONS, ROUTES
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event

SHAPES: list[Any] = ["abc", "9" * 40, "-1", {"x": "1"}, ["a"], [{"x": "1"}]]
ROUTE_LIST = sorted(ROUTES) + sorted(EXTENSIONS)


def _form(key: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(f"{key}[{k}]", str(v)) for k, v in value.items()]
    if isinstance(value, list):
        out: list[tuple[str, str]] = []
        for index, element in enumerate(value):
            out += _form(f"{key}[{index}]", element)
        return out
    return [(key, str(value))]


@pytest.fixture
def objects(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> dict[str, str]:
    """One live object of each kind, so handlers run past their lookups."""
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 10,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    seat = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}, {"price": seat.id}]}
    )
    send_event(client, customer.id, "5", timestamp=T0 + 60)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    grant = client.v1.billing.credit_grants.create(
        params={
            "customer": customer.id,
            "applicability_config": {"scope": {"price_type": "metered"}},
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 100}},
        }
    )
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 1})
    txn = client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -5, "currency": "usd"}
    )
    alert = client.v1.billing.alerts.create(
        params={
            "alert_type": "usage_threshold",
            "title": "t",
            "usage_threshold": {"gte": 1000, "meter": meter.id, "recurrence": "one_time"},
        }
    )
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    dest = client.v2.core.event_destinations.create(
        params={
            "name": "d",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.error_report_triggered"],
            "webhook_endpoint": {"url": "http://127.0.0.1:9/x"},
        }
    )
    return {
        "subscriptions": sub.id,
        "subscription_items": sub["items"].data[0].id,
        "invoices": invoice.id,
        "line": invoice.lines.data[0].id,
        "credit_grants": grant.id,
        "credit_notes": note.id,
        "customers": customer.id,
        "txn": txn.id,
        "alerts": alert.id,
        "test_clocks": clock.id,
        "event_destinations": dest.id,
        "invoiceitems": "ii_missing",
        "events": "evt_x",
        "credit_balance_transactions": "cbtxn_x",
        "prices": price.id,
    }


def _path(pattern: str, objects: dict[str, str]) -> str:
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if part == "{id}":
            parts[index] = objects.get(parts[index - 1], "x_missing")
        elif part in ("{txn}", "{line}"):
            parts[index] = objects[part.strip("{}")]
    return "/".join(parts)


def _schema(route: tuple[str, str]) -> Obj:
    return ROUTES[route] if route in ROUTES else Obj(EXTENSIONS[route])


@pytest.mark.parametrize("route", ROUTE_LIST, ids=lambda r: f"{r[0]} {r[1]}")
def test_no_parameter_shape_makes_a_route_fail(
    server: EmulatorServer, objects: dict[str, str], route: tuple[str, str]
) -> None:
    method, pattern = route
    path = _path(pattern, objects)
    auth = {"Authorization": "Bearer sk_test_fuzz"}
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
        for name in _schema(route).fields:
            for shape in SHAPES:
                if pattern.startswith("/v2/"):
                    response = http.request(method, path, json={name: shape}, headers=auth)
                elif method == "GET":
                    response = http.get(path, params=_form(name, shape), headers=auth)
                else:
                    response = http.request(
                        method, path, data=dict(_form(name, shape)), headers=auth
                    )
                statuses.append((name, shape, response.status_code))
    assert [s for s in statuses if s[2] >= 500] == []
