"""The invoice webhook flow on the in-memory store and Stripe: a recorded ``invoice.created``
job bills one item per ``invoice_items`` mapping, once; a Stripe outage reschedules it;
``invoice.finalized`` records Stripe's numbers. Jobs are recorded as the webhook route
records them (a ``WebhookJob``), so no signature or body parsing is involved."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode
from stripemeter_server.service.invoicing.flow import JobPolicy, claim, run_job
from stripemeter_server.service.invoicing.ports import (
    ITEM_CREATED,
    JOB_DONE,
    JOB_FAILED,
    JOB_IGNORED,
    JOB_PENDING,
    WebhookJob,
)
from stripemeter_server.service.ports.stripe import StripeRetryableError
from tests.unit.service.on_fake.stripe_env import JAN_S, TENANT, StripeEnv, stripe_env

MAPPING = StripeMapping("calls", SyncMode.INVOICE_ITEMS, unit_amount=Decimal("0.5"), currency="usd")


@pytest.fixture
def env() -> StripeEnv:
    made = stripe_env([{"code": "calls", "aggregation": "sum"}])
    made.map(MAPPING)
    return made


def billed(env: StripeEnv) -> tuple[str, str]:
    """``acme`` with 1234 January calls at 0.5 cents and a draft renewal invoice on Feb 1."""
    stripe_id = env.customer("acme")
    env.ingest("acme", "1234", "a")
    env.clock.advance(timedelta(days=17, hours=1))
    return stripe_id, env.stripe.add_invoice(stripe_id)


def record(env: StripeEnv, event_id: str, event_type: str, invoice: dict[str, Any]) -> None:
    body = {"id": event_id, "type": event_type, "data": {"object": invoice}}
    now_us = env.now_us
    with env.store.unit_of_work(TENANT) as uow:
        uow.webhook_jobs.add(
            WebhookJob(
                tenant_id=TENANT,
                event_id=event_id,
                event_type=event_type,
                object_id=invoice["id"],
                payload=json.dumps(body),
                status=JOB_PENDING,
                attempts=0,
                error=None,
                received_us=now_us,
                next_attempt_us=now_us,
                processed_us=None,
                updated_us=now_us,
            )
        )
        uow.commit()


def created(stripe_id: str, invoice_id: str, **more: Any) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "customer": stripe_id,
        "status": "draft",
        "currency": "usd",
        "period_start": JAN_S[0],
        "period_end": JAN_S[1],
        **more,
    }


def run(env: StripeEnv, event_id: str, policy: JobPolicy | None = None) -> str | None:
    job = claim(env.ctx, TENANT, event_id)
    return None if job is None else run_job(env.ctx, job, policy or JobPolicy())


def job(env: StripeEnv, event_id: str) -> WebhookJob:
    with env.store.unit_of_work(TENANT) as uow:
        found = uow.webhook_jobs.get(event_id)
    assert found is not None
    return found


def test_invoice_created_bills_one_item_priced_from_the_usage(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    assert run(env, "evt_1") == JOB_DONE
    assert [(x.amount, x.quantity) for x in env.stripe.invoice_lines(invoice)] == [
        (617, Decimal(1234))
    ]


def test_the_item_is_recorded_created_with_stripes_amount(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    run(env, "evt_1")
    with env.store.unit_of_work(TENANT) as uow:
        items = [(i.status, i.amount) for i in uow.invoice_items.for_invoices([invoice])]
    assert items == [(ITEM_CREATED, 617)]


def test_a_second_event_for_the_same_invoice_adds_no_second_item(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    record(env, "evt_2", "invoice.created", created(stripe_id, invoice))
    run(env, "evt_1")
    run(env, "evt_2")
    assert len(env.stripe.invoice_lines(invoice)) == 1


def test_a_job_is_not_run_twice_while_its_lease_holds(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    first = claim(env.ctx, TENANT, "evt_1")
    assert (first is not None, claim(env.ctx, TENANT, "evt_1")) == (True, None)


def test_a_stripe_outage_reschedules_the_job_with_the_reason(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    env.stripe.fail("create_invoice_item", StripeRetryableError("Stripe: timed out"), times=5)
    outcome = run(env, "evt_1")
    later = job(env, "evt_1")
    assert (outcome, later.status, later.error) == (JOB_PENDING, JOB_PENDING, "Stripe: timed out")
    assert later.next_attempt_us == env.now_us + 30_000_000


def test_a_job_past_its_attempts_is_given_up(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    assert run(env, "evt_1", JobPolicy(max_attempts=0)) == JOB_FAILED
    assert env.stripe.invoice_lines(invoice) == []


def test_finalized_records_stripes_number_and_totals(env: StripeEnv) -> None:
    stripe_id, invoice = billed(env)
    record(env, "evt_1", "invoice.created", created(stripe_id, invoice))
    run(env, "evt_1")
    final = created(stripe_id, invoice, status="open", number="INV-7", total=617, subtotal=617)
    record(env, "evt_2", "invoice.finalized", final)
    run(env, "evt_2")
    with env.store.unit_of_work(TENANT) as uow:
        stored = uow.stripe_invoices.get(invoice)
    assert stored is not None
    assert (stored.status, stored.number, stored.total) == ("open", "INV-7", 617)


def test_finalized_for_an_invoice_we_never_billed_is_ignored(env: StripeEnv) -> None:
    record(env, "evt_1", "invoice.finalized", created("cus_X", "in_unknown", status="open"))
    assert run(env, "evt_1") == JOB_IGNORED
