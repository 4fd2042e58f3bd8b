"""Prepaid credit on the renewal invoice, with the emulator: one negative line per grant for
what it paid of the billed periods, added once however often ``invoice.created`` arrives.
On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import (
    CUSTOMER,
    EXPECTED_TOTAL,
    billed_customer,
    renew,
)


def credit_lines(flow: Flow, invoice_id: str) -> dict[str, int]:
    lines = flow.stripe.v1.invoices.line_items.list(invoice_id, params={"limit": 100})
    found: dict[str, int] = {}
    for line in (item.to_dict() for item in lines.auto_paging_iter()):
        grant = (line.get("metadata") or {}).get("stripemeter_credit_grant")
        if grant:
            found[grant] = found.get(grant, 0) + int(line["amount"])
    return found


def grant(flow: Flow, amount: str, key: str, **fields: Any) -> str:
    body = {
        "amount": amount,
        "currency": "usd",
        "idempotencyKey": key,
        "effectiveAt": "2026-01-01T00:00:00Z",
        **fields,
    }
    return str(flow.send("POST", f"/v1/customers/{CUSTOMER}/credit-grants", body)["id"])


def test_each_grant_that_paid_gets_one_negative_line(flow: Flow) -> None:
    billed_customer(flow)
    first = grant(flow, "10", "g1", priority=1)  # seats cost $30 at the project's price
    second = grant(flow, "100", "g2", priority=2)
    renewal = renew(flow)
    assert credit_lines(flow, renewal.invoice_id) == {first: -1000, second: -2000}


def test_a_replayed_invoice_created_adds_no_second_credit_line(flow: Flow) -> None:
    billed_customer(flow)
    only = grant(flow, "10", "g1")
    renewal = renew(flow)
    flow.post_webhook(renewal.delivery.body, renewal.delivery.signature)
    assert credit_lines(flow, renewal.invoice_id) == {only: -1000}


def test_the_invoice_total_is_the_usage_less_the_credit(flow: Flow) -> None:
    billed_customer(flow)
    grant(flow, "10", "g1")
    renewal = renew(flow)
    invoice = flow.stripe.v1.invoices.retrieve(renewal.invoice_id)
    assert invoice.total == EXPECTED_TOTAL - 1000


def test_without_credit_grants_no_credit_line_is_added(flow: Flow) -> None:
    billed_customer(flow)
    renewal = renew(flow)
    assert credit_lines(flow, renewal.invoice_id) == {}


def test_an_invoice_with_a_credit_line_passes_the_gate(flow: Flow) -> None:
    assert flow.send("PUT", "/v1/reconciliation/settings", {"gate": "hold"})["gate"] == "hold"
    billed_customer(flow)
    grant(flow, "10", "g1")
    renewal = renew(flow)
    verdicts = [
        (v["invoiceId"], v["state"]) for v in flow.get("/v1/reconciliation/invoices")["data"]
    ]
    assert verdicts == [(renewal.invoice_id, "agreed")]
