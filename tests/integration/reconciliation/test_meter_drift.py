"""Drift injected behind the product's back (the emulator adds or cancels meter events) is
found exactly — right lines, right amounts — nothing else is flagged; repair fixes it and a
second run is all ok; pushes still in the outbox are pending, not drift."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.reconciliation.support import reconcile
from tests.integration.stripe_push.support import T0, Env

D = Decimal


@pytest.fixture
def synced(env: Env) -> tuple[str, str]:
    """Two customers, a sum and a latest metric, January usage all pushed."""
    env.metric("api_calls", "sum")
    env.metric("seats", "latest")
    a, b = env.customer("A"), env.customer("B")
    env.ingest(
        {"metric": "api_calls", "customerRef": a, "quantity": "100", "ts": "2026-01-10T00:00:00Z"},
        {"metric": "api_calls", "customerRef": b, "quantity": "40", "ts": "2026-01-11T00:00:00Z"},
        {"metric": "seats", "customerRef": a, "quantity": "5", "ts": "2026-01-12T00:00:00Z"},
        {"metric": "seats", "customerRef": b, "quantity": "3", "ts": "2026-01-12T00:00:00Z"},
    )
    env.drain()
    return a, b


def test_a_clean_sync_reconciles_to_all_ok(env: Env, synced: tuple[str, str]) -> None:
    result = reconcile(env.ctx)
    assert sorted((x.customer_ref, x.metric, x.status) for x in result.lines) == sorted(
        (c, m, "ok") for c in synced for m in ("api_calls", "seats")
    )


def test_injected_and_cancelled_events_are_found_exactly(env: Env, synced: tuple[str, str]) -> None:
    a, b = synced
    env.emu.control(
        "POST",
        "/meter_events",
        {
            "event_name": "api_calls",
            "payload": {"stripe_customer_id": a, "value": "7"},
            "timestamp": T0 - 3600,
        },
    )
    pushed_b = env.rows(customer=b, metric="api_calls")[0].push_id
    env.emu.control("POST", f"/meter_events/{pushed_b}/cancel")
    result = reconcile(env.ctx)
    found = sorted(
        (x.customer_ref, x.metric, x.status, x.local_value, x.stripe_value, x.absolute_drift)
        for x in result.attention()
    )
    assert found == sorted(
        [
            (a, "api_calls", "drift", D(100), D(107), D(7)),
            (b, "api_calls", "missing_in_stripe", D(40), D(0), D(-40)),
        ]
    )


def test_repair_pushes_the_difference_and_a_second_run_is_all_ok(
    env: Env, synced: tuple[str, str]
) -> None:
    a, b = synced
    env.emu.control(
        "POST",
        "/meter_events",
        {
            "event_name": "api_calls",
            "payload": {"stripe_customer_id": a, "value": "7"},
            "timestamp": T0 - 3600,
        },
    )
    env.emu.control(
        "POST",
        "/meter_events",
        {
            "event_name": "seats",
            "payload": {"stripe_customer_id": b, "value": "9"},
            "timestamp": T0 + 30,
        },
    )
    repaired = reconcile(env.ctx, repair=True)
    assert sorted(
        (x.customer_ref, x.metric, x.action, x.status_after) for x in repaired.attention()
    ) == sorted([(a, "api_calls", "repaired", "ok"), (b, "seats", "repaired", "ok")])
    assert (
        env.stripe_total(
            "api_calls",
            a,
            (env.clock.now().replace(day=1), env.clock.now().replace(month=2, day=1)),
        )
        == 100
    )
    again = reconcile(env.ctx)
    assert {x.status for x in again.lines} == {"ok"}


def test_a_push_still_in_the_outbox_is_pending_not_drift(env: Env, synced: tuple[str, str]) -> None:
    a, _ = synced
    env.ingest(
        {"metric": "api_calls", "customerRef": a, "quantity": "5", "ts": "2026-01-14T00:00:00Z"}
    )
    env.worker().plan(env.clock.now())  # planned into the outbox, not sent
    line = reconcile(env.ctx).by(a, "api_calls")
    assert (line.status, line.local_value, line.pushed_value, line.stripe_value) == (
        "pending",
        D(105),
        D(100),
        D(100),
    )
