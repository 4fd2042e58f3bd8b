"""Prepaid credit for a metric pushed to Billing Meters, with the emulator and the official
library, on SQLite and PostgreSQL: one Stripe credit grant per local grant that paid for the
billed period, created once however often ``invoice.created`` arrives; reconciliation finds
a grant voided or re-keyed in Stripe, with the money at stake, the gate holds the draft, and
a repair voids and recreates it (ADR 0922)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from stripemeter_server.workers.invoice_jobs import InvoiceJobWorker
from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import (
    CUSTOMER,
    Renewal,
    ingest,
    metric,
    renew,
    subscribe,
)
from tests.integration.stripe_invoices.test_crash_retry import crash
from tests.integration.stripe_invoices.test_credit_lines import grant
from tests.integration.stripe_invoices.test_reconciliation_gate import gate, reconcile, verdicts


def metered_customer(flow: Flow) -> str:
    """``alice`` with seats pushed to Billing Meters, priced 2.50 USD a seat (12 seats in
    January: $30); returns the Stripe customer id."""
    stripe_customer = subscribe(flow, CUSTOMER)
    metric(flow, "seats", "max")
    flow.send("PUT", "/v1/mappings/seats", {"mode": "meter_events"})
    flow.send(
        "PUT", "/v1/prices/seats", {"model": "per_unit", "currency": "usd", "unitAmount": "2.50"}
    )
    ingest(
        flow,
        [
            {
                "metric": "seats",
                "customerRef": CUSTOMER,
                "quantity": "12",
                "ts": "2026-01-05T00:00:00Z",
            },
        ],
    )
    return stripe_customer


def stripe_grants(flow: Flow, stripe_customer: str) -> list[dict[str, Any]]:
    page = flow.stripe.v1.billing.credit_grants.list(
        params={"customer": stripe_customer, "limit": 100}
    )
    return [g.to_dict() for g in page.auto_paging_iter()]


def live(flow: Flow, stripe_customer: str) -> list[tuple[str, int, str]]:
    """(local grant, amount, currency) of each unvoided Stripe grant."""
    return sorted(
        (
            g["metadata"]["stripemeter_credit_grant"],
            g["amount"]["monetary"]["value"],
            g["amount"]["monetary"]["currency"],
        )
        for g in stripe_grants(flow, stripe_customer)
        if g.get("voided_at") is None
    )


def grant_attention(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (x["metric"], x["status"], x["moneyAtStake"], x["action"], x["statusAfter"])
        for x in run["lines"]
        if x["metric"].endswith(":stripe_grant") and x["status"] != "ok"
    )


@pytest.fixture
def granted(flow: Flow) -> tuple[str, str, Renewal]:
    """The Stripe customer, the local grant ($10 of the $30) and the renewal, gate on hold."""
    gate(flow, "hold")
    stripe_customer = metered_customer(flow)
    only = grant(flow, "10", "g1")
    return stripe_customer, only, renew(flow)


def test_the_credit_drawn_becomes_one_stripe_credit_grant(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, _ = granted
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]


def test_the_stripe_grant_applies_to_metered_prices(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, _, _ = granted
    [created] = stripe_grants(flow, stripe_customer)
    assert created["applicability_config"]["scope"]["price_type"] == "metered"


def test_a_duplicated_invoice_created_creates_no_second_grant(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, renewal = granted
    flow.post_webhook(renewal.delivery.body, renewal.delivery.signature)
    flow.post_webhook(renewal.delivery.body, renewal.delivery.signature)
    assert len(stripe_grants(flow, stripe_customer)) == 1
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]


def test_an_agreeing_stripe_grant_passes_the_gate(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    _, only, renewal = granted
    run = reconcile(flow)
    lines = [
        (x["metric"], x["status"], x["invoiceId"])
        for x in run["lines"]
        if x["metric"].endswith(":stripe_grant")
    ]
    assert lines == [(f"credit:{only}:stripe_grant", "ok", renewal.invoice_id)]


def test_a_voided_stripe_grant_is_found_with_its_money_at_stake(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, _ = granted
    [created] = stripe_grants(flow, stripe_customer)
    flow.stripe.v1.billing.credit_grants.void_grant(created["id"])
    run = reconcile(flow)
    assert grant_attention(run) == [
        (f"credit:{only}:stripe_grant", "missing_in_stripe", "10.00", None, None)
    ]


def test_the_gate_holds_a_draft_whose_stripe_grant_was_voided(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, _, renewal = granted
    [created] = stripe_grants(flow, stripe_customer)
    flow.stripe.v1.billing.credit_grants.void_grant(created["id"])
    run = reconcile(flow)
    assert run["summary"]["held"] == [renewal.invoice_id]
    invoice = flow.stripe.v1.invoices.retrieve(renewal.invoice_id)
    assert (invoice.status, invoice.auto_advance) == ("draft", False)


def test_repair_recreates_a_voided_grant_and_releases_the_draft(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, renewal = granted
    [created] = stripe_grants(flow, stripe_customer)
    flow.stripe.v1.billing.credit_grants.void_grant(created["id"])
    reconcile(flow)
    repaired = reconcile(flow, repair=True)
    assert grant_attention(repaired) == [
        (f"credit:{only}:stripe_grant", "missing_in_stripe", "10.00", "repaired", "ok")
    ]
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]
    assert verdicts(flow) == [(renewal.invoice_id, "released")]


def test_a_second_grant_with_the_key_is_drift_and_repair_leaves_one(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, _ = granted
    [created] = stripe_grants(flow, stripe_customer)
    flow.stripe.v1.billing.credit_grants.create(
        params={
            "customer": stripe_customer,
            "category": "paid",
            "metadata": created["metadata"],
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 500}},
            "applicability_config": {"scope": {"price_type": "metered"}},
        }
    )
    found = reconcile(flow)
    assert grant_attention(found) == [(f"credit:{only}:stripe_grant", "drift", "-5.00", None, None)]
    reconcile(flow, repair=True)
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]


def test_a_grant_re_keyed_in_stripe_is_missing(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, _ = granted
    [created] = stripe_grants(flow, stripe_customer)
    flow.stripe.v1.billing.credit_grants.update(
        created["id"], params={"metadata": {"stripemeter_key": "elsewhere"}}
    )
    run = reconcile(flow)
    assert grant_attention(run) == [
        (f"credit:{only}:stripe_grant", "missing_in_stripe", "10.00", None, None)
    ]


def test_the_invoice_with_an_agreeing_stripe_grant_is_agreed_by_the_gate(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    _, _, renewal = granted
    assert verdicts(flow) == [(renewal.invoice_id, "agreed")]


def test_the_stripe_grant_carries_its_key_per_grant_and_invoice(
    flow: Flow, granted: tuple[str, str, Renewal]
) -> None:
    stripe_customer, only, renewal = granted
    [created] = stripe_grants(flow, stripe_customer)
    key = str(created["metadata"]["stripemeter_key"])
    assert key.endswith(f":credit_grant:{only}:{renewal.invoice_id}")


def test_without_a_local_grant_no_stripe_grant_is_created(flow: Flow) -> None:
    stripe_customer = metered_customer(flow)
    renew(flow)
    assert stripe_grants(flow, stripe_customer) == []


def _retry_after_the_lease(flow: Flow) -> int:
    flow.clock.advance(timedelta(minutes=5))
    return InvoiceJobWorker(flow.ctx).run_once()


def test_a_crash_before_the_grant_is_created_then_a_retry_creates_exactly_one(flow: Flow) -> None:
    stripe_customer = metered_customer(flow)
    only = grant(flow, "10", "g1")
    flow.hook.before_create = crash
    renew(flow)
    assert stripe_grants(flow, stripe_customer) == []
    assert _retry_after_the_lease(flow) == 1
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]


def test_a_crash_after_stripe_created_the_grant_creates_no_second_even_if_stripe_forgot_the_key(
    flow: Flow,
) -> None:
    stripe_customer = metered_customer(flow)
    only = grant(flow, "10", "g1")
    flow.hook.after_create = crash
    renew(flow)
    with flow.emulator.emulator.store.lock:  # Stripe's 24 h key memory has passed
        flow.emulator.emulator.store.collection("idempotency").clear()
    _retry_after_the_lease(flow)
    assert len(stripe_grants(flow, stripe_customer)) == 1
    assert live(flow, stripe_customer) == [(only, 1000, "usd")]


def test_a_metered_only_invoice_without_credit_is_ignored_as_before(flow: Flow) -> None:
    metered_customer(flow)
    renewal = renew(flow)
    jobs = flow.get("/v1/stripe/webhook-events")["data"]
    [job] = [
        j for j in jobs if renewal.invoice_id in json.dumps(j) and j["type"] == "invoice.created"
    ]
    assert (job["status"], job["error"]) == (
        "ignored",
        (
            "no metric is mapped with mode invoice_items and no prepaid credit paid "
            "for a metered metric"
        ),
    )
