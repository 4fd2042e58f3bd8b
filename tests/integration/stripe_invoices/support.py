"""A billed customer: a subscription renewing on 2026-02-01, three mapped metrics (one per
pricing path) and January usage; and the helpers the invoice-flow tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.integration.stripe_invoices.conftest import FEB_1, JAN_1, Flow, at

CUSTOMER = "alice"  # found in Stripe by metadata stripemeter_customer_ref
PLAN_CENTS = 1000
# metric → (quantity billed, amount in cents)
EXPECTED = {
    "api_calls": (1234, 617),  # mapping unitAmount 0.5 cents (unit_amount_decimal)
    "seats": (12, 3000),  # the project's per_unit price, 2.50 USD, on the max
    "exports": (7, 21),  # the mapping's Stripe price, 3 cents
}
EXPECTED_TOTAL = PLAN_CENTS + sum(amount for _, amount in EXPECTED.values())


@dataclass
class Renewal:
    invoice_id: str
    delivery: Any


def metric(flow: Flow, code: str, aggregation: str) -> None:
    flow.send(
        "POST",
        "/v1/metrics",
        {
            "code": code,
            "aggregation": aggregation,
            "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
        },
    )


def subscribe(flow: Flow, customer: str, metadata: dict[str, str] | None = None) -> str:
    """A Stripe customer (tied to ``customer`` by metadata unless ``metadata`` is given) with a
    monthly licensed subscription; returns the Stripe customer id."""
    tag = {"stripemeter_customer_ref": customer} if metadata is None else metadata
    created = flow.stripe.v1.customers.create(params={"name": "Alice", "metadata": tag})
    customer = str(created.id)
    plan = flow.stripe.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": PLAN_CENTS,
            "product_data": {"name": "Plan"},
            "recurring": {"interval": "month"},
        }
    )
    flow.stripe.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plan.id}]}
    )
    # Stripe bills (and finalizes) the first invoice at creation: its `invoice.created`
    # reaches the app now, so the renewal's events are the only ones left to deliver.
    reports = flow.deliver()
    assert all(r["status"] == 200 for r in reports), reports
    return customer


def ingest(flow: Flow, events: list[dict[str, Any]]) -> Any:
    result = flow.send("POST", "/v1/events/ingest", {"events": events})
    assert result["rejected"] == 0, result
    return result


def billed_customer(flow: Flow) -> None:
    """The subscription, the mappings and January's usage of ``alice``."""
    subscribe(flow, CUSTOMER)
    metric(flow, "api_calls", "sum")
    metric(flow, "seats", "max")
    metric(flow, "exports", "sum")
    export_price = flow.stripe.v1.prices.create(
        params={"currency": "usd", "unit_amount": 3, "product_data": {"name": "Exports"}}
    )
    flow.send(
        "PUT",
        "/v1/mappings/api_calls",
        {
            "mode": "invoice_items",
            "unitAmount": "0.5",
            "currency": "usd",
            "description": "API calls",
        },
    )
    flow.send("PUT", "/v1/mappings/seats", {"mode": "invoice_items", "description": "Seats"})
    flow.send(
        "PUT", "/v1/prices/seats", {"model": "per_unit", "currency": "usd", "unitAmount": "2.50"}
    )
    flow.send(
        "PUT", "/v1/mappings/exports", {"mode": "invoice_items", "price": str(export_price.id)}
    )
    day = 86400
    ingest(
        flow,
        [
            {
                "metric": "api_calls",
                "customerRef": CUSTOMER,
                "quantity": "1000",
                "ts": "2026-01-03T10:00:00Z",
            },
            {
                "metric": "api_calls",
                "customerRef": CUSTOMER,
                "quantity": "234",
                "ts": "2026-01-12T10:00:00Z",
            },
            {
                "metric": "seats",
                "customerRef": CUSTOMER,
                "quantity": "5",
                "ts": "2026-01-02T00:00:00Z",
            },
            {
                "metric": "seats",
                "customerRef": CUSTOMER,
                "quantity": "12",
                "ts": "2026-01-05T00:00:00Z",
            },
            {
                "metric": "seats",
                "customerRef": CUSTOMER,
                "quantity": "8",
                "ts": "2026-01-09T00:00:00Z",
            },
            {
                "metric": "exports",
                "customerRef": CUSTOMER,
                "quantity": "7",
                "ts": "2026-01-14T00:00:00Z",
            },
        ],
    )
    assert flow.clock.now() == at(JAN_1 + 14 * day)


def renew(flow: Flow) -> Renewal:
    """Stripe's period ends: the draft invoice and its ``invoice.created`` delivered once."""
    flow.clock.set(at(FEB_1 + 600))
    created = flow.advance_stripe(FEB_1 - JAN_1)["invoices_created"]
    assert len(created) == 1
    reports = flow.deliver()
    assert [r["type"] for r in reports] == ["invoice.created"]
    assert [r["status"] for r in reports] == [200]
    return Renewal(str(created[0]), flow.relay.deliveries[-1])


def usage_lines(flow: Flow, invoice_id: str) -> dict[str, list[Any]]:
    """The invoice's lines the flow added, by metric (from their metadata)."""
    found: dict[str, list[Any]] = {}
    lines = flow.stripe.v1.invoices.line_items.list(invoice_id, params={"limit": 100})
    for line in (item.to_dict() for item in lines.auto_paging_iter()):
        metric_code = (line.get("metadata") or {}).get("stripemeter_metric")
        if metric_code:
            found.setdefault(metric_code, []).append(line)
    return found
