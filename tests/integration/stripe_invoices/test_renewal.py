"""A renewal with the emulator's clock: period ends → draft invoice → ``invoice.created``
(delivered, then replayed) → one item per metric → finalized → the period is locked, and a
late event afterwards is billed in the next period. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.timestamps import to_micros
from tests.integration.stripe_invoices.conftest import FEB_1, JAN_1, Flow, at
from tests.integration.stripe_invoices.support import (
    CUSTOMER,
    EXPECTED,
    EXPECTED_TOTAL,
    Renewal,
    billed_customer,
    ingest,
    renew,
    usage_lines,
)


@pytest.fixture
def renewal(flow: Flow) -> Renewal:
    billed_customer(flow)
    return renew(flow)


def test_each_mapped_metric_gets_one_item_with_its_quantity_and_amount(
    flow: Flow, renewal: Renewal
) -> None:
    lines = usage_lines(flow, renewal.invoice_id)
    billed = {
        code: [
            (int(Decimal(line["metadata"]["stripemeter_quantity"])), line["amount"])
            for line in found
        ]
        for code, found in lines.items()
    }
    assert billed == {code: [pair] for code, pair in EXPECTED.items()}


def test_the_items_bill_the_period_that_ended(flow: Flow, renewal: Renewal) -> None:
    lines = usage_lines(flow, renewal.invoice_id)
    periods = {
        (line["period"]["start"], line["period"]["end"])
        for found in lines.values()
        for line in found
    }
    assert periods == {(JAN_1, FEB_1)}


def test_a_replayed_invoice_created_is_acknowledged_and_adds_nothing(
    flow: Flow, renewal: Renewal
) -> None:
    replay = flow.post_webhook(renewal.delivery.body, renewal.delivery.signature)
    assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    assert {
        code: len(found) for code, found in usage_lines(flow, renewal.invoice_id).items()
    } == dict.fromkeys(EXPECTED, 1)


def test_the_finalized_invoice_is_recorded_with_its_number_and_total(
    flow: Flow, renewal: Renewal
) -> None:
    finalized = flow.advance_stripe(3600)["invoices_finalized"]
    assert finalized == [renewal.invoice_id]
    assert [r["type"] for r in flow.deliver()] == ["invoice.finalized"]
    invoice = flow.get("/v1/stripe/invoices")["data"][0]
    stripe_invoice = flow.stripe.v1.invoices.retrieve(renewal.invoice_id)
    assert (invoice["invoiceId"], invoice["status"], invoice["number"], invoice["total"]) == (
        renewal.invoice_id,
        "open",
        stripe_invoice.number,
        EXPECTED_TOTAL,
    )


def test_the_period_is_locked_by_the_invoice_with_its_final_value(
    flow: Flow, renewal: Renewal
) -> None:
    with flow.store.unit_of_work("default", read_only=True) as uow:
        locks = {
            (lock.metric, lock.reason, lock.final_value)
            for lock in uow.period_closes.find(customer_ref=CUSTOMER)
        }
    assert locks == {
        (code, "invoice", Decimal(quantity)) for code, (quantity, _) in EXPECTED.items()
    }


def test_a_late_event_after_the_lock_is_billed_in_the_next_period(
    flow: Flow, renewal: Renewal
) -> None:
    result = ingest(
        flow,
        [
            {
                "metric": "api_calls",
                "customerRef": CUSTOMER,
                "quantity": "66",
                "ts": "2026-01-20T00:00:00Z",
            }
        ],
    )
    periods = flow.get(
        "/v1/usage/periods",
        customerRef=CUSTOMER,
        metric="api_calls",
        **{"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
    )["data"]
    values = [(p["periodStart"][:10], p["status"], p["value"]) for p in periods]
    assert (result["results"][0]["status"], values) == (
        "accepted",
        [("2026-01-01", "closed", "1234"), ("2026-02-01", "open", "66")],
    )


def test_operators_see_the_job_done_and_the_items_created(flow: Flow, renewal: Renewal) -> None:
    job = flow.get("/v1/stripe/webhook-events")["data"][0]
    items = flow.get("/v1/stripe/invoices")["data"][0]["items"]
    assert (job["type"], job["status"]) == ("invoice.created", "done")
    assert sorted((i["metric"], i["status"], i["idempotencyKey"]) for i in items) == sorted(
        (code, "created", f"stripemeter:default:{CUSTOMER}:{code}:2026-01-01T00:00:00.000000Z")
        for code in EXPECTED
    )


def test_the_lock_time_is_the_processing_time(flow: Flow, renewal: Renewal) -> None:
    with flow.store.unit_of_work("default", read_only=True) as uow:
        closed = {lock.closed_us for lock in uow.period_closes.find(customer_ref=CUSTOMER)}
    assert closed == {to_micros(at(FEB_1 + 600))}
