"""The pusher's heartbeat (issue 18, finding 14): a live owner keeps its claimed rows by
renewing their short lease; a dead owner's rows lapse within one lease and another worker
takes them over; a renewal never takes back a row another worker has claimed since."""

from __future__ import annotations

from datetime import timedelta

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.leases import LeaseKeeper
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.service.tenant_rounds import TenantRounds, all_tenants
from tests.integration.stripe_push.support import Env

LEASE_S = 8.0
LEASE_US = int(LEASE_S * 1_000_000)


def _planned(env: Env) -> None:
    env.metric("api_calls", "sum")
    refs = [env.customer(f"C{i}") for i in range(3)]
    env.ingest(
        *[
            {"metric": "api_calls", "customerRef": r, "quantity": "2", "ts": "2026-01-10T00:00:00Z"}
            for r in refs
        ]
    )
    env.worker().plan(env.clock.now(), full=True)


def _claim(env: Env) -> tuple[list[PushRow], int]:
    """Claim as a worker pass does: one single-tenant claim per tenant, in rounds."""
    now_us = to_micros(env.clock.now())
    rows = TenantRounds().claim(
        all_tenants(env.store),
        100,
        lambda tenant, most: run_use_case(
            env.store, tenant, lambda uow: uow.pushes.claim_due(now_us, LEASE_US, most)
        ),
    )
    return rows, now_us


def _later(env: Env, seconds: float) -> None:
    env.clock.advance(timedelta(seconds=seconds))


def test_the_default_lease_is_short() -> None:
    assert PushPolicy().lease_s <= 10


def test_a_live_owner_keeps_its_rows_past_the_first_lease(env: Env) -> None:
    _planned(env)
    rows, claimed_us = _claim(env)
    keeper = LeaseKeeper(env.store, env.clock, LEASE_S)
    held = {(r.tenant_id, r.push_id): claimed_us + LEASE_US for r in rows}
    _later(env, LEASE_S * 3 / 4)
    renewed = keeper.renew(held)
    _later(env, LEASE_S * 3 / 4)  # past the first lease, inside the renewed one
    taken, _ = _claim(env)
    assert (len(rows), renewed, taken) == (3, 3, [])


def test_a_dead_owners_rows_are_taken_over_after_one_lease(env: Env) -> None:
    _planned(env)
    rows, _ = _claim(env)
    _later(env, LEASE_S)
    taken, _ = _claim(env)
    assert (len(rows), sorted(r.push_id for r in taken)) == (3, sorted(r.push_id for r in rows))


def test_a_renewal_never_takes_back_a_row_another_worker_claimed(env: Env) -> None:
    _planned(env)
    rows, claimed_us = _claim(env)
    held = {(r.tenant_id, r.push_id): claimed_us + LEASE_US for r in rows}
    _later(env, LEASE_S + 1)  # the owner stalled past its lease
    taken, taken_us = _claim(env)
    renewed = LeaseKeeper(env.store, env.clock, LEASE_S).renew(held)
    leases = {r.lease_until_us for r in env.rows()}
    assert (len(taken), renewed, held, leases) == (3, 0, {}, {taken_us + LEASE_US})


def test_the_worker_holds_its_rows_only_while_it_sends_them(env: Env) -> None:
    _planned(env)
    env.drain(env.worker(PushPolicy(lease_s=LEASE_S, first_retry_s=0.0, full_sweep_s=0.0)))
    assert [(r.status, r.lease_until_us) for r in env.rows()] == [("sent", None)] * 3
