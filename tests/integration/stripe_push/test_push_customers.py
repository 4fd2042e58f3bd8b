"""Which Stripe customer a push goes to: refs found by metadata are cached, and a cached id
Stripe no longer knows is looked up again once instead of parking the push."""

from __future__ import annotations

from stripemeter_server.domain.timestamps import to_micros
from tests.integration.stripe_push.support import JAN, NOW, Env


def _ingest_for(env: Env, ref: str) -> None:
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "4", "ts": "2026-01-10T00:00:00Z"}
    )


def test_a_ref_is_found_by_stripe_metadata_and_cached(env: Env) -> None:
    env.metric("api_calls")
    stripe_id = env.customer(stripemeter_customer_ref="acct-7")
    _ingest_for(env, "acct-7")
    env.drain()
    assert env.stripe_total("api_calls", stripe_id, JAN) == 4
    with env.store.unit_of_work("default", read_only=True) as uow:
        assert uow.stripe_customers.get("acct-7") == stripe_id


def test_a_stale_cached_customer_is_looked_up_again_and_the_push_is_sent(env: Env) -> None:
    env.metric("api_calls")
    stripe_id = env.customer(stripemeter_customer_ref="acct-8")
    with env.store.unit_of_work("default") as uow:
        uow.stripe_customers.put("acct-8", "cus_deleted_long_ago", to_micros(NOW))
        uow.commit()
    _ingest_for(env, "acct-8")
    env.drain()
    assert [r.status for r in env.rows()] == ["sent"]
    assert env.stripe_total("api_calls", stripe_id, JAN) == 4
    with env.store.unit_of_work("default", read_only=True) as uow:
        assert uow.stripe_customers.get("acct-8") == stripe_id


def test_a_ref_no_stripe_customer_carries_is_parked_with_the_reason(env: Env) -> None:
    env.metric("api_calls")
    _ingest_for(env, "nobody")
    env.drain()
    rows = env.rows()
    assert [r.status for r in rows] == ["failed"]
    assert rows[0].last_error_code is not None
