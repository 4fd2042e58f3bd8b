"""Reconciliation and the invoice gate cover credit lines, on both stores: a draft's
negative credit line edited behind our back is found (``drift``, money at stake), held by
the gate, corrected by a repair run through the same keyed path, and the draft released."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import CUSTOMER, Renewal, billed_customer, renew
from tests.integration.stripe_invoices.test_credit_lines import credit_lines, grant
from tests.integration.stripe_invoices.test_reconciliation_gate import (
    gate,
    reconcile,
    verdicts,
)


def credit_attention(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (x["metric"], x["status"], x["moneyAtStake"], x["action"], x["statusAfter"])
        for x in run["lines"]
        if x["metric"].startswith("credit:") and x["status"] != "ok"
    )


def edit_credit_line(flow: Flow, invoice_id: str, amount: int) -> None:
    lines = flow.stripe.v1.invoices.line_items.list(invoice_id, params={"limit": 100})
    for line in (item.to_dict() for item in lines.auto_paging_iter()):
        if (line.get("metadata") or {}).get("stripemeter_credit_grant"):
            item_id = line["parent"]["invoice_item_details"]["invoice_item"]
            flow.emulator.control("POST", f"/invoice_items/{item_id}", {"amount": amount})
            return
    raise AssertionError("no credit line on the invoice")


@pytest.fixture
def credited(flow: Flow) -> tuple[Renewal, str]:
    gate(flow, "hold")
    billed_customer(flow)
    only = grant(flow, "10", "g1")  # pays $10 of the renewal: one line of -1000 cents
    return renew(flow), only


def test_an_agreeing_credit_line_is_compared_and_ok(
    flow: Flow, credited: tuple[Renewal, str]
) -> None:
    renewal, only = credited
    run = reconcile(flow)
    lines = [
        (x["metric"], x["status"], x["invoiceId"])
        for x in run["lines"]
        if x["metric"].startswith("credit:")
    ]
    assert lines == [(f"credit:{only}", "ok", renewal.invoice_id)]


def test_a_drifted_credit_line_is_found_with_its_money_at_stake(
    flow: Flow, credited: tuple[Renewal, str]
) -> None:
    renewal, only = credited
    edit_credit_line(flow, renewal.invoice_id, -400)  # Stripe credits $4 instead of $10
    run = reconcile(flow)
    assert credit_attention(run) == [(f"credit:{only}", "drift", "6.00", None, None)]


def test_the_gate_holds_a_draft_whose_credit_line_drifted(
    flow: Flow, credited: tuple[Renewal, str]
) -> None:
    renewal, _ = credited
    edit_credit_line(flow, renewal.invoice_id, -400)
    run = reconcile(flow)
    assert run["summary"]["held"] == [renewal.invoice_id]
    invoice = flow.stripe.v1.invoices.retrieve(renewal.invoice_id)
    assert (invoice.status, invoice.auto_advance) == ("draft", False)
    assert flow.advance_stripe(2 * 3600)["invoices_finalized"] == []


def test_repair_corrects_the_credit_line_and_releases_the_draft(
    flow: Flow, credited: tuple[Renewal, str]
) -> None:
    renewal, only = credited
    edit_credit_line(flow, renewal.invoice_id, -400)
    reconcile(flow)
    repaired = reconcile(flow, repair=True)
    assert credit_attention(repaired) == [(f"credit:{only}", "drift", "6.00", "repaired", "ok")]
    assert credit_lines(flow, renewal.invoice_id) == {only: -1000}
    assert verdicts(flow) == [(renewal.invoice_id, "released")]
    assert flow.advance_stripe(3600)["invoices_finalized"] == [renewal.invoice_id]


def test_a_removed_credit_line_is_added_again_by_repair(
    flow: Flow, credited: tuple[Renewal, str]
) -> None:
    renewal, only = credited
    lines = flow.stripe.v1.invoices.line_items.list(renewal.invoice_id, params={"limit": 100})
    item_id = next(
        x["parent"]["invoice_item_details"]["invoice_item"]
        for x in (i.to_dict() for i in lines.auto_paging_iter())
        if (x.get("metadata") or {}).get("stripemeter_credit_grant")
    )
    flow.emulator.control("DELETE", f"/invoice_items/{item_id}")
    repaired = reconcile(flow, repair=True, customerRef=CUSTOMER)
    assert credit_attention(repaired) == [
        (f"credit:{only}", "missing_in_stripe", "10.00", "repaired", "ok")
    ]
    assert credit_lines(flow, renewal.invoice_id) == {only: -1000}


def test_a_drifted_credit_line_on_a_finalized_invoice_is_reported_not_touched(flow: Flow) -> None:
    gate(flow, "report")
    billed_customer(flow)
    only = grant(flow, "10", "g1")
    renewal = renew(flow)
    edit_credit_line(flow, renewal.invoice_id, -400)
    assert flow.advance_stripe(3600)["invoices_finalized"] == [renewal.invoice_id]
    run = reconcile(flow, period="2026-01", repair=True, customerRef=CUSTOMER)
    assert credit_attention(run) == [
        (f"credit:{only}", "drift", "6.00", "credit_note_needed", None)
    ]
    assert credit_lines(flow, renewal.invoice_id) == {only: -400}  # Stripe untouched
