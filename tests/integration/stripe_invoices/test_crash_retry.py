"""A process that dies mid-job: the lease expires, the worker loop re-claims the job, and
the invoice still gets exactly one item per metric."""

from __future__ import annotations

from datetime import timedelta

from stripemeter_server.workers.invoice_jobs import InvoiceJobWorker
from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import (
    EXPECTED,
    billed_customer,
    renew,
    usage_lines,
)


class Crash(Exception):
    """Stands for the process dying at this point."""


def crash() -> None:
    raise Crash


def _retry_after_the_lease(flow: Flow) -> int:
    flow.clock.advance(timedelta(minutes=5))
    return InvoiceJobWorker(flow.ctx).run_once()


def _item_counts(flow: Flow, invoice_id: str) -> dict[str, int]:
    return {code: len(found) for code, found in usage_lines(flow, invoice_id).items()}


def test_a_crash_after_the_intent_commit_then_a_retry_creates_exactly_one_item(flow: Flow) -> None:
    billed_customer(flow)
    flow.hook.before_create = crash
    renewal = renew(flow)
    assert flow.get("/v1/stripe/webhook-events")["data"][0]["status"] == "pending"
    claimed = _retry_after_the_lease(flow)
    assert (claimed, _item_counts(flow, renewal.invoice_id)) == (1, dict.fromkeys(EXPECTED, 1))


def test_a_crash_after_stripe_created_the_item_is_not_billed_twice_even_if_stripe_forgot_the_key(
    flow: Flow,
) -> None:
    billed_customer(flow)
    flow.hook.after_create = crash
    renewal = renew(flow)
    with flow.emulator.emulator.store.lock:  # Stripe's 24 h key memory has passed
        flow.emulator.emulator.store.collection("idempotency").clear()
    _retry_after_the_lease(flow)
    items = flow.get("/v1/stripe/invoices")["data"][0]["items"]
    assert _item_counts(flow, renewal.invoice_id) == dict.fromkeys(EXPECTED, 1)
    assert {i["status"] for i in items} == {"created"}


def test_a_job_whose_lease_is_held_is_not_claimed_again(flow: Flow) -> None:
    billed_customer(flow)
    flow.hook.before_create = crash
    renew(flow)
    assert InvoiceJobWorker(flow.ctx).run_once() == 0
