"""The pusher's planner and sender on the in-memory store and Stripe: what a pass plans,
what it leaves alone, and what becomes of a row Stripe takes or refuses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stripemeter_server.domain.stripe_mapping import MeterFormula, StripeMapping
from stripemeter_server.service.ports.stripe import StripePermanentError
from stripemeter_server.service.stripe_sync.planner import plan_tenant
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow, PushStatus
from stripemeter_server.service.stripe_sync.sender import PushSender
from tests.unit.service.on_fake.stripe_env import FAST, JAN_S, TENANT, StripeEnv, stripe_env


@pytest.fixture
def env() -> StripeEnv:
    made = stripe_env([{"code": "calls", "aggregation": "sum"}])
    made.map(StripeMapping("calls"))
    return made


def plan(env: StripeEnv) -> int:
    with env.store.unit_of_work(TENANT) as uow:
        planned = plan_tenant(uow, env.clock.now(), since_us=None)
        uow.commit()
    return planned


def send(env: StripeEnv) -> list[PushRow]:
    """Claim what is due and send it, as one pusher pass does; the rows afterwards."""
    with env.store.unit_of_work(TENANT) as uow:
        claimed = uow.pushes.claim_due(env.now_us, 30_000_000, 100)
        uow.commit()
    PushSender(env.ctx, FAST).send(claimed, env.clock.now())
    return env.rows()


def test_a_counter_is_planned_as_one_pending_push_of_its_total(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    assert plan(env) == 1
    assert [(r.status, r.value, r.pushed_after) for r in env.rows()] == [
        (PushStatus.PENDING, 40, 40)
    ]


def test_an_unchanged_counter_is_not_planned_again(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    plan(env)
    assert plan(env) == 0


def test_an_unsent_push_blocks_a_newer_one_for_its_counter(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    plan(env)
    env.ingest("acme", "2", "b")
    assert (plan(env), len(env.rows())) == (0, 1)


def test_once_sent_a_change_is_planned_as_the_delta(env: StripeEnv) -> None:
    env.customer("acme")
    env.ingest("acme", "40", "a")
    plan(env)
    send(env)
    env.ingest("acme", "2", "b")
    plan(env)
    assert [(r.value, r.pushed_after) for r in env.rows()] == [(40, 40), (2, 42)]


def test_a_metric_without_a_mapping_is_not_planned() -> None:
    env = stripe_env([{"code": "calls", "aggregation": "sum"}])
    env.ingest("acme", "40", "a")
    assert plan(env) == 0


def test_a_sent_push_reaches_the_customers_meter(env: StripeEnv) -> None:
    meter = env.stripe.create_meter("calls", "calls", MeterFormula.SUM).meter_id
    stripe_id = env.customer("acme")
    env.ingest("acme", "40", "a")
    plan(env)
    rows = send(env)
    assert [(r.status, r.stripe_customer_id) for r in rows] == [(PushStatus.SENT, stripe_id)]
    assert env.stripe.meter_total(meter, stripe_id, *JAN_S) == Decimal(40)


def test_a_permanent_refusal_parks_the_push_with_stripes_code(env: StripeEnv) -> None:
    env.customer("acme")
    env.ingest("acme", "40", "a")
    plan(env)
    refusal = StripePermanentError("Stripe: no", stripe_code="parameter_invalid")
    env.stripe.fail("send_meter_event", refusal)
    rows = send(env)
    assert [(r.status, r.last_error_code) for r in rows] == [
        (PushStatus.FAILED, "parameter_invalid")
    ]


def test_a_customer_stripe_does_not_know_is_parked_until_fixed(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    plan(env)
    rows = send(env)
    assert [(r.status, r.last_error_code) for r in rows] == [
        (PushStatus.FAILED, "customer_not_found")
    ]


def test_without_a_stripe_account_the_push_is_parked() -> None:
    env = stripe_env([{"code": "calls", "aggregation": "sum"}], configured=False)
    env.map(StripeMapping("calls"))
    env.ingest("acme", "40", "a")
    plan(env)
    rows = send(env)
    assert [(r.status, r.last_error_code) for r in rows] == [
        (PushStatus.FAILED, "stripe_not_configured")
    ]


def test_a_claimed_push_is_not_claimed_again_before_its_lease_lapses(env: StripeEnv) -> None:
    env.ingest("acme", "40", "a")
    plan(env)
    with env.store.unit_of_work(TENANT) as uow:
        first = uow.pushes.claim_due(env.now_us, 30_000_000, 10)
        uow.commit()
    env.clock.advance(timedelta(seconds=29))
    with env.store.unit_of_work(TENANT) as uow:
        during = uow.pushes.claim_due(env.now_us, 30_000_000, 10)
    assert (len(first), during) == (1, [])
