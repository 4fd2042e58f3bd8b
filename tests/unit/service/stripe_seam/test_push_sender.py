"""The pusher's use cases against the in-memory Stripe: what is sent, and what becomes of a
row when Stripe refuses, fails or forgets a session."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.domain.stripe_mapping import MeterFormula
from stripemeter_server.service.ports.stripe import (
    StripePermanentError,
    StripeRetryableError,
)
from stripemeter_server.service.stripe_sync.ports.pushes import PushStatus
from tests.unit.service.stripe_seam.support import JAN_S, FakeEnv


def _meter(env: FakeEnv, name: str) -> str:
    return env.stripe.create_meter(name, name, MeterFormula.SUM).meter_id


def test_a_period_total_reaches_the_customers_meter_as_one_event(env: FakeEnv) -> None:
    env.metric("api_calls")
    meter = _meter(env, "api_calls")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    assert env.stripe.meter_total(meter, stripe_id, *JAN_S) == Decimal(40)


def test_a_sent_row_records_the_stripe_customer_it_went_to(env: FakeEnv) -> None:
    env.metric("api_calls")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    assert [(r.status, r.stripe_customer_id) for r in env.rows()] == [(PushStatus.SENT, stripe_id)]


def test_a_retryable_failure_leaves_the_row_pending_with_the_reason(env: FakeEnv) -> None:
    env.metric("api_calls")
    env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.stripe.fail(
        "send_meter_event", StripeRetryableError("Stripe: down", stripe_code="api_error"), times=2
    )
    env.push()
    assert [(r.status, r.last_error_code) for r in env.rows()] == [
        (PushStatus.PENDING, "api_error")
    ]


def test_a_row_left_pending_is_sent_on_a_later_pass_once(env: FakeEnv) -> None:
    env.metric("api_calls")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.stripe.fail("send_meter_event", StripeRetryableError("Stripe: down"), times=2)
    env.push()
    env.push()
    assert [e.value for e in env.stripe.events_for("api_calls", stripe_id)] == [40]


def test_a_refusal_parks_the_row_as_failed_with_stripes_code(env: FakeEnv) -> None:
    env.metric("api_calls")
    env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.stripe.fail(
        "send_meter_event", StripePermanentError("Stripe: no", stripe_code="parameter_invalid")
    )
    env.push()
    assert [(r.status, r.last_error_code) for r in env.rows()] == [
        (PushStatus.FAILED, "parameter_invalid")
    ]


def test_a_customer_stripe_does_not_know_parks_the_row(env: FakeEnv) -> None:
    env.metric("api_calls")
    env.ingest("api_calls", "nobody", "40")
    env.push()
    assert [(r.status, r.last_error_code) for r in env.rows()] == [
        (PushStatus.FAILED, "customer_not_found")
    ]


def test_a_v2_stream_sends_through_a_session(env: FakeEnv) -> None:
    env.metric("api_calls", transport="v2_stream")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    assert (
        [e.value for e in env.stripe.events_for("api_calls", stripe_id)],
        env.stripe.calls.count("open_meter_event_session"),
    ) == ([40], 1)


def test_an_expired_stream_session_is_renewed_and_the_batch_sent_again(env: FakeEnv) -> None:
    env.metric("api_calls", transport="v2_stream")
    stripe_id = env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    env.stripe.expire_sessions()
    env.ingest("api_calls", "acme", "2", ts="2026-01-04T00:00:00Z")
    env.push()
    assert (
        [e.value for e in env.stripe.events_for("api_calls", stripe_id)],
        env.stripe.calls.count("open_meter_event_session"),
    ) == ([40, 2], 2)


def test_usage_records_set_the_period_total_on_the_item_with_the_mappings_price(
    env: FakeEnv,
) -> None:
    env.metric("api_calls", mode="usage_records", price="price_calls")
    stripe_id = env.customer("acme")
    item = env.stripe.add_subscription_item(stripe_id, "price_calls", *JAN_S)
    env.ingest("api_calls", "acme", "40")
    env.ingest("api_calls", "acme", "2", ts="2026-01-04T00:00:00Z")
    env.push()
    assert env.stripe.usage_record_total(item, JAN_S[0]) == Decimal(42)


def test_usage_records_without_a_matching_item_park_the_row(env: FakeEnv) -> None:
    env.metric("api_calls", mode="usage_records", price="price_calls")
    env.customer("acme")
    env.ingest("api_calls", "acme", "40")
    env.push()
    assert [(r.status, r.last_error_code) for r in env.rows()] == [
        (PushStatus.FAILED, "subscription_item_not_found")
    ]
