"""The invoice gate and invoice-item reconciliation through the API and the emulator, on both
stores: an agreeing draft finalizes untouched; a draft whose line is edited behind our back
is found exactly, held (``auto_advance=false``, an alert) and released once repaired; drift
on a finalized invoice is reported as a credit note and Stripe is not touched."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import (
    CUSTOMER,
    EXPECTED,
    Renewal,
    billed_customer,
    renew,
    usage_lines,
)


def gate(flow: Flow, mode: str) -> None:
    assert flow.send("PUT", "/v1/reconciliation/settings", {"gate": mode})["gate"] == mode


def reconcile(flow: Flow, **body: Any) -> dict[str, Any]:
    started = flow.http.post("/v1/reconciliation/runs", json=body, headers=flow.headers)
    assert started.status_code == 202, started.text
    run: dict[str, Any] = flow.get(f"/v1/reconciliation/runs/{started.json()['id']}", limit=1000)
    assert run["status"] == "done", run
    return run


def attention(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            x["metric"],
            x["status"],
            x["local"],
            x["stripe"],
            x["moneyAtStake"],
            x["action"],
            x["statusAfter"],
        )
        for x in run["lines"]
        if x["status"] not in ("ok", "pending")
    )


def edit_api_calls(flow: Flow, renewal: Renewal, quantity: int) -> None:
    item = usage_lines(flow, renewal.invoice_id)["api_calls"][0]
    item_id = item["parent"]["invoice_item_details"]["invoice_item"]
    flow.emulator.control("POST", f"/invoice_items/{item_id}", {"quantity": quantity})


def verdicts(flow: Flow) -> list[tuple[str, str]]:
    return [(v["invoiceId"], v["state"]) for v in flow.get("/v1/reconciliation/invoices")["data"]]


@pytest.fixture
def held_gate(flow: Flow) -> Renewal:
    gate(flow, "hold")
    flow.send("POST", "/v1/alerts", {"type": "reconciliation", "name": "gate"})
    billed_customer(flow)
    return renew(flow)


def test_an_agreeing_invoice_is_checked_on_creation_and_finalizes_untouched(
    flow: Flow, held_gate: Renewal
) -> None:
    runs = flow.get("/v1/reconciliation/runs")["data"]
    assert [(r["trigger"], r["status"], r["summary"]["unresolved"]) for r in runs] == [
        ("invoice", "done", 0)
    ]
    assert verdicts(flow) == [(held_gate.invoice_id, "agreed")]
    assert flow.advance_stripe(3600)["invoices_finalized"] == [held_gate.invoice_id]


def test_an_edited_line_is_found_exactly_and_the_draft_is_held(
    flow: Flow, held_gate: Renewal
) -> None:
    edit_api_calls(flow, held_gate, 1300)
    run = reconcile(flow)
    # 66 more calls at the mapping's 0.5 cents: 0.33 USD billed too much
    assert attention(run) == [("api_calls", "drift", "1234", "1300", "0.33", None, None)]
    assert run["summary"]["held"] == [held_gate.invoice_id]
    invoice = flow.stripe.v1.invoices.retrieve(held_gate.invoice_id)
    assert (invoice.status, invoice.auto_advance) == ("draft", False)
    assert flow.advance_stripe(2 * 3600)["invoices_finalized"] == []
    events = flow.get("/v1/alerts/events")["data"]
    assert [(e["kind"], e["invoiceId"], e["state"]) for e in events] == [
        ("reconciliation", held_gate.invoice_id, "held")
    ]


def test_repair_corrects_the_line_releases_the_draft_and_it_finalizes(
    flow: Flow, held_gate: Renewal
) -> None:
    edit_api_calls(flow, held_gate, 1300)
    reconcile(flow)
    repaired = reconcile(flow, repair=True)
    assert attention(repaired) == [("api_calls", "drift", "1234", "1300", "0.33", "repaired", "ok")]
    line = usage_lines(flow, held_gate.invoice_id)["api_calls"][0]
    assert (line["quantity"], line["amount"]) == EXPECTED["api_calls"]
    assert verdicts(flow) == [(held_gate.invoice_id, "released")]
    assert attention(reconcile(flow)) == []
    assert flow.advance_stripe(3600)["invoices_finalized"] == [held_gate.invoice_id]


def test_drift_on_a_finalized_invoice_is_reported_as_a_credit_note(flow: Flow) -> None:
    gate(flow, "report")
    billed_customer(flow)
    renewal = renew(flow)
    edit_api_calls(flow, renewal, 1300)
    assert flow.advance_stripe(3600)["invoices_finalized"] == [renewal.invoice_id]
    run = reconcile(flow, period="2026-01", repair=True, customerRef=CUSTOMER)
    assert attention(run) == [
        ("api_calls", "drift", "1234", "1300", "0.33", "credit_note_needed", None)
    ]
    line = usage_lines(flow, renewal.invoice_id)["api_calls"][0]
    assert line["quantity"] == 1300  # Stripe untouched


def test_the_csv_export_holds_every_line(flow: Flow, held_gate: Renewal) -> None:
    edit_api_calls(flow, held_gate, 1300)
    run = reconcile(flow)
    response = flow.http.get(f"/v1/reconciliation/runs/{run['id']}.csv", headers=flow.headers)
    rows = [line.split(",") for line in response.text.splitlines()]
    assert response.headers["content-type"].startswith("text/csv")
    assert (rows[0][:3], sorted((r[2], r[11]) for r in rows[1:])) == (
        ["lineNo", "customerRef", "metric"],
        sorted((code, "drift" if code == "api_calls" else "ok") for code in EXPECTED),
    )
