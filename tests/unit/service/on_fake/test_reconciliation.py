"""Reconciliation on the in-memory store and Stripe: what a page plans, how a line compares,
and what a repair does, at a frozen clock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.reconciliation_scope import parse_period_selector
from stripemeter_server.domain.stripe_mapping import MeterFormula, StripeMapping
from stripemeter_server.service.ports.stripe import MeterEventOut
from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
from stripemeter_server.service.reconciliation.plan import RunScope, in_scope_mappings, plan_page
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.runs import start_run
from stripemeter_server.service.stripe_sync.planner import plan_tenant
from stripemeter_server.service.stripe_sync.sender import PushSender
from tests.unit.service.on_fake.stripe_env import FAST, JAN_S, NOW, TENANT, StripeEnv, stripe_env

POLICY = RunPolicy(page_size=50, push=FAST)
SCOPE = RunScope(selector=parse_period_selector(None))


@pytest.fixture
def env() -> StripeEnv:
    made = stripe_env([{"code": "calls", "aggregation": "sum"}])
    made.map(StripeMapping("calls"))
    return made


def push_all(env: StripeEnv) -> None:
    with env.store.unit_of_work(TENANT) as uow:
        plan_tenant(uow, env.clock.now(), since_us=None)
        claimed = uow.pushes.claim_due(env.now_us, 30_000_000, 100)
        uow.commit()
    PushSender(env.ctx, FAST).send(claimed, env.clock.now())


def pushed(env: StripeEnv) -> tuple[str, str]:
    """``acme``'s 40 calls sent to its meter; the meter and the Stripe customer."""
    meter = env.stripe.create_meter("calls", "calls", MeterFormula.SUM).meter_id
    stripe_id = env.customer("acme")
    env.ingest("acme", "40", "a")
    push_all(env)
    return meter, stripe_id


def behind_our_back(env: StripeEnv, stripe_id: str) -> None:
    env.stripe.send_meter_event(MeterEventOut("calls", stripe_id, 5, "foreign-1", JAN_S[0] + 60))


def reconcile(env: StripeEnv, *, repair: bool = False) -> list[LineRecord]:
    with env.store.unit_of_work(TENANT) as uow:
        run = start_run(uow, SCOPE, repair, env.clock.now())
        uow.commit()
    done = execute(env.ctx, TENANT, run.run_id, POLICY)
    assert done is not None and done.status == "done", done
    with env.store.unit_of_work(TENANT) as uow:
        return uow.reconciliation.lines(run.run_id, limit=100)


def test_a_page_plans_one_task_per_mapped_metric_with_the_ledgers_value(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    with env.store.unit_of_work(TENANT) as uow:
        tasks = plan_page(uow, SCOPE, ["acme"], in_scope_mappings(uow, SCOPE), NOW)
    assert [(t.customer_ref, t.metric.code, t.local) for t in tasks] == [
        ("acme", "calls", Decimal(40))
    ]


def test_an_unmapped_metric_is_not_in_scope() -> None:
    env = stripe_env([{"code": "calls", "aggregation": "sum"}])
    with env.store.unit_of_work(TENANT) as uow:
        assert in_scope_mappings(uow, SCOPE) == []


def test_a_clean_month_agrees(env: StripeEnv) -> None:
    pushed(env)
    assert [(x.status, x.stripe_value) for x in reconcile(env)] == [("ok", Decimal(40))]


def test_an_event_sent_behind_our_back_is_drift(env: StripeEnv) -> None:
    _, stripe_id = pushed(env)
    behind_our_back(env, stripe_id)
    assert [(x.status, x.absolute_drift) for x in reconcile(env)] == [("drift", Decimal(5))]


def test_a_push_still_in_the_outbox_is_pending_not_drift(env: StripeEnv) -> None:
    pushed(env)
    env.ingest("acme", "5", "b")
    with env.store.unit_of_work(TENANT) as uow:
        plan_tenant(uow, env.clock.now(), since_us=None)  # planned, not sent
        uow.commit()
    assert [(x.status, x.stripe_value) for x in reconcile(env)] == [("pending", Decimal(40))]


def test_a_repair_brings_the_meter_back_to_the_ledger(env: StripeEnv) -> None:
    meter, stripe_id = pushed(env)
    behind_our_back(env, stripe_id)
    lines = reconcile(env, repair=True)
    assert [(x.action, x.status_after) for x in lines] == [("repaired", "ok")]
    assert env.stripe.meter_total(meter, stripe_id, *JAN_S) == Decimal(40)


def test_a_run_without_repair_leaves_stripe_alone(env: StripeEnv) -> None:
    meter, stripe_id = pushed(env)
    behind_our_back(env, stripe_id)
    reconcile(env)
    assert env.stripe.meter_total(meter, stripe_id, *JAN_S) == Decimal(45)
