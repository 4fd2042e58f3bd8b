"""Reconciliation against the in-memory Stripe: a clean month agrees, a value changed behind
our back is drift, and a repair brings Stripe back to the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from stripemeter_server.domain.reconciliation_scope import parse_period_selector
from stripemeter_server.domain.stripe_mapping import MeterFormula
from stripemeter_server.service.invoicing.billing import bill_invoice
from stripemeter_server.service.ports.stripe import MeterEventOut, StripePermanentError
from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
from stripemeter_server.service.reconciliation.plan import RunScope
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.runs import start_run
from stripemeter_server.workers.stripe_push import StripePushWorker
from tests.unit.service.stripe_seam.support import FAST, JAN_S, T0, FakeEnv

POLICY = RunPolicy(page_size=50, push=FAST)


def _reconcile(env: FakeEnv, *, repair: bool = False) -> list[LineRecord]:
    with env.store.unit_of_work("default") as uow:
        run = start_run(
            uow, RunScope(selector=parse_period_selector(None)), repair, env.clock.now()
        )
        uow.commit()
    done = execute(env.ctx, "default", run.run_id, POLICY)
    assert done is not None and done.status == "done", done
    with env.store.unit_of_work("default", read_only=True) as uow:
        return uow.reconciliation.lines(run.run_id, limit=1000)


def _pushed(env: FakeEnv) -> tuple[str, str]:
    env.metric("api_calls")
    meter = env.stripe.create_meter("api_calls", "api_calls", MeterFormula.SUM).meter_id
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    return meter, stripe_id


def _behind_our_back(env: FakeEnv, stripe_id: str) -> None:
    env.stripe.send_meter_event(MeterEventOut("api_calls", stripe_id, 5, "foreign-1", T0))


def test_a_clean_month_agrees(env: FakeEnv) -> None:
    _pushed(env)
    assert [(x.status, x.stripe_value) for x in _reconcile(env)] == [("ok", Decimal(40))]


def test_an_event_sent_behind_our_back_is_drift(env: FakeEnv) -> None:
    _, stripe_id = _pushed(env)
    _behind_our_back(env, stripe_id)
    assert [(x.status, x.stripe_value) for x in _reconcile(env)] == [("drift", Decimal(45))]


def test_a_repair_brings_the_meter_back_to_the_ledger(env: FakeEnv) -> None:
    meter, stripe_id = _pushed(env)
    _behind_our_back(env, stripe_id)
    _reconcile(env, repair=True)
    assert env.stripe.meter_total(meter, stripe_id, *JAN_S) == Decimal(40)


def test_a_repaired_line_rechecks_as_ok(env: FakeEnv) -> None:
    _, stripe_id = _pushed(env)
    _behind_our_back(env, stripe_id)
    assert [(x.action, x.status_after) for x in _reconcile(env, repair=True)] == [
        ("repaired", "ok")
    ]


def _invoiced(env: FakeEnv) -> str:
    env.metric("api_calls", mode="invoice_items", unitAmount="0.5", currency="usd")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "1234")
    env.clock.advance(timedelta(days=17, hours=1))  # 2026-02-01T01:00Z
    invoice = env.stripe.add_invoice(stripe_id)
    bill_invoice(
        env.ctx,
        "default",
        "evt_1",
        {
            "id": invoice,
            "customer": stripe_id,
            "status": "draft",
            "currency": "usd",
            "period_start": JAN_S[0],
            "period_end": JAN_S[1],
        },
    )
    return invoice


def test_an_invoice_line_changed_on_a_draft_is_corrected(env: FakeEnv) -> None:
    invoice = _invoiced(env)
    item = env.stripe.invoice_lines(invoice)[0].invoice_item_id
    assert item is not None
    env.stripe.update_invoice_item(item, {"amount": 999}, "by-hand")
    _reconcile(env, repair=True)
    assert [x.amount for x in env.stripe.invoice_lines(invoice)] == [617]


def test_a_push_still_in_the_outbox_is_pending_not_drift(env: FakeEnv) -> None:
    _pushed(env)
    env.ingest("api_calls", "acme", "5", ts="2026-01-14T00:00:00Z")
    StripePushWorker(env.ctx, FAST).plan(env.clock.now())  # planned, not sent
    assert [(x.status, x.stripe_value) for x in _reconcile(env)] == [("pending", Decimal(40))]


def test_a_push_parked_as_failed_is_named_on_the_line(env: FakeEnv) -> None:
    _pushed(env)
    env.ingest("api_calls", "acme", "5", ts="2026-01-14T00:00:00Z")
    env.stripe.fail(
        "send_meter_event", StripePermanentError("Stripe: no", stripe_code="parameter_invalid")
    )
    env.push()
    [line] = _reconcile(env)
    assert "parked as failed (parameter_invalid)" in (line.note or "")
