"""Ingest → push → Stripe's meter summaries equal the ledger exactly."""

from __future__ import annotations

from tests.integration.stripe_push.support import DEC, JAN, Env, assert_identifiers_consistent


def test_sum_count_and_latest_totals_match_the_ledger(env: Env) -> None:
    env.metric("api_calls", "sum")
    env.metric("requests", "count")
    env.metric("seats", "latest")
    a, b = env.customer("A"), env.customer("B")
    env.ingest(
        {"metric": "api_calls", "customerRef": a, "quantity": "5", "ts": "2026-01-10T00:00:00Z"},
        {"metric": "api_calls", "customerRef": b, "quantity": "7", "ts": "2026-01-11T00:00:00Z"},
        {"metric": "api_calls", "customerRef": a, "quantity": "3", "ts": "2025-12-31T00:00:00Z"},
        {"metric": "requests", "customerRef": a, "ts": "2026-01-12T00:00:00Z"},
        {"metric": "requests", "customerRef": a, "ts": "2026-01-13T00:00:00Z"},
        {"metric": "seats", "customerRef": a, "quantity": "4", "ts": "2026-01-13T00:00:00Z"},
    )
    env.drain()
    env.ingest(
        {"metric": "api_calls", "customerRef": a, "quantity": "11", "ts": "2026-01-02T00:00:00Z"},
        {"metric": "seats", "customerRef": a, "quantity": "2", "ts": "2026-01-14T00:00:00Z"},
        {
            "metric": "requests",
            "customerRef": b,
            "ts": "2026-01-14T00:00:00Z",
            "idempotencyKey": "req-b-1",
        },
    )
    env.adjust("api_calls", b, "-2")
    env.drain()
    env.void("req-b-1")
    env.drain()
    for metric in ("api_calls", "requests", "seats"):
        for customer in (a, b):
            for period in (JAN, DEC):
                assert env.stripe_total(metric, customer, period) == env.local(
                    metric, customer, period
                ), (metric, customer, period)
    # the December event arrived after December closed: billed in January (late_policy adjust)
    assert (env.local("api_calls", a, JAN), env.local("api_calls", a, DEC)) == (19, 0)
    assert env.local("seats", a, JAN) == 2
    assert_identifiers_consistent(env.emu)
