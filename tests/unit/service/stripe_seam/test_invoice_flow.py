"""``invoice.created`` against the in-memory Stripe: one item per ``invoice_items`` mapping,
exactly once across retries, and a refusal kept visible on the item."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from stripemeter_server.service.invoicing.billing import bill_invoice
from stripemeter_server.service.invoicing.ports import ITEM_CREATED, ITEM_FAILED
from stripemeter_server.service.ports.stripe import (
    StripePermanentError,
    StripeRetryableError,
)
from tests.unit.service.stripe_seam.support import JAN_S, FakeEnv


def _billed(env: FakeEnv) -> tuple[str, str]:
    """``acme`` with 1234 January calls at 0.5 cents, and a draft renewal invoice on Feb 1."""
    env.metric("api_calls", mode="invoice_items", unitAmount="0.5", currency="usd")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "1234")
    env.clock.advance(timedelta(days=17, hours=1))  # 2026-02-01T01:00Z
    return stripe_id, env.stripe.add_invoice(stripe_id)


def _created(env: FakeEnv, stripe_id: str, invoice_id: str) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "customer": stripe_id,
        "status": "draft",
        "currency": "usd",
        "period_start": JAN_S[0],
        "period_end": JAN_S[1],
    }


def _items(env: FakeEnv, invoice_id: str) -> list[tuple[str, Any]]:
    with env.store.unit_of_work("default", read_only=True) as uow:
        return [(i.status, i.amount) for i in uow.invoice_items.for_invoices([invoice_id])]


def test_a_draft_gets_one_item_priced_from_the_usage(env: FakeEnv) -> None:
    stripe_id, invoice = _billed(env)
    bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    assert [(x.amount, x.quantity) for x in env.stripe.invoice_lines(invoice)] == [
        (617, Decimal(1234))
    ]


def test_the_item_is_recorded_created_with_stripes_amount(env: FakeEnv) -> None:
    stripe_id, invoice = _billed(env)
    bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    assert _items(env, invoice) == [(ITEM_CREATED, 617)]


def test_a_redelivered_event_adds_no_second_item(env: FakeEnv) -> None:
    stripe_id, invoice = _billed(env)
    bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    assert len(env.stripe.invoice_lines(invoice)) == 1


def test_a_call_that_failed_midway_is_retried_into_one_item(env: FakeEnv) -> None:
    stripe_id, invoice = _billed(env)
    env.stripe.fail("create_invoice_item", StripeRetryableError("Stripe: timed out"))
    with pytest.raises(StripeRetryableError):
        bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    assert ([x.amount for x in env.stripe.invoice_lines(invoice)], _items(env, invoice)) == (
        [617],
        [(ITEM_CREATED, 617)],
    )


def test_a_refusal_marks_the_item_failed(env: FakeEnv) -> None:
    stripe_id, invoice = _billed(env)
    env.stripe.fail(
        "create_invoice_item",
        StripePermanentError("Stripe: no", stripe_code="invoice_not_editable"),
    )
    outcome = bill_invoice(env.ctx, "default", "evt_1", _created(env, stripe_id, invoice))
    assert (outcome.status, _items(env, invoice)) == ("failed", [(ITEM_FAILED, 617)])


def test_a_customer_stripe_does_not_know_is_ignored(env: FakeEnv) -> None:
    _billed(env)
    outcome = bill_invoice(env.ctx, "default", "evt_1", _created(env, "cus_unknown", "in_unknown"))
    assert (outcome.status, outcome.note) == ("ignored", "unknown customer")
