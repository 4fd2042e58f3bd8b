"""Incremental planning reads only counters written since their push was planned (ADR 0850):
the push state keeps the counter's ``updated_us`` its plan read; ``sent_us`` is the record time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.workers.stripe_push import StripePushWorker
from tests.integration.stripe_push.support import FAST, JAN, Env

TS = "2026-01-14T00:00:00Z"
INCREMENTAL = replace(FAST, full_sweep_s=3600.0)


def _scanned(env: Env) -> set[str]:
    """The customers an incremental scan of ``api_calls`` reads now (overlap: 60 s)."""
    now_us = to_micros(env.clock.now())
    with env.store.unit_of_work("default", read_only=True) as uow:
        found = uow.pushes.changed_counters(
            "api_calls", since_us=now_us - 60_000_000, min_end_us=None, settled_us=60_000_000
        )
    return {c.counter.customer_ref for c in found}


def _pass(env: Env, worker: StripePushWorker) -> int:
    env.clock.advance(timedelta(seconds=1))
    return worker.run_once(env.clock.now()).planned


def test_a_planned_counter_is_read_again_only_after_a_new_write(env: Env) -> None:
    env.metric("api_calls", "sum")
    a, b = env.customer("A"), env.customer("B")
    worker = env.worker(INCREMENTAL)
    env.ingest({"metric": "api_calls", "customerRef": a, "quantity": "5", "ts": TS})
    assert worker.run_once(env.clock.now(), full=True).planned == 1
    assert _scanned(env) == set()  # inside the overlap, yet planned from its current write

    env.clock.advance(timedelta(seconds=1))
    env.ingest({"metric": "api_calls", "customerRef": b, "quantity": "7", "ts": TS})
    assert _scanned(env) == {b}
    assert _pass(env, worker) == 1
    assert _scanned(env) == set()

    env.clock.advance(timedelta(seconds=1))
    env.ingest({"metric": "api_calls", "customerRef": a, "quantity": "3", "ts": TS})
    assert _scanned(env) == {a}
    assert _pass(env, worker) == 1
    assert _pass(env, worker) == 0
    assert env.stripe_total("api_calls", a, JAN) == env.local("api_calls", a, JAN) == 8
    assert env.stripe_total("api_calls", b, JAN) == env.local("api_calls", b, JAN) == 7


def test_a_counter_blocked_by_an_unsent_push_is_read_until_it_is_planned(env: Env) -> None:
    env.metric("api_calls", "sum")
    a = env.customer("A")
    worker = env.worker(INCREMENTAL)
    env.ingest({"metric": "api_calls", "customerRef": a, "quantity": "5", "ts": TS})
    assert worker.plan(env.clock.now(), full=True) == 1  # planned, not yet sent
    env.clock.advance(timedelta(seconds=1))
    env.ingest({"metric": "api_calls", "customerRef": a, "quantity": "2", "ts": TS})
    assert _scanned(env) == {a}
    assert _pass(env, worker) == 0  # blocked: the first push is sent in this pass
    assert _scanned(env) == {a}  # its second write is still unplanned
    assert _pass(env, worker) == 1
    assert _pass(env, worker) == 0
    assert env.stripe_total("api_calls", a, JAN) == env.local("api_calls", a, JAN) == 7


def test_sent_at_is_when_the_answers_were_recorded_not_the_pass_start(env: Env) -> None:
    env.metric("api_calls", "sum")
    a = env.customer("A")
    env.ingest({"metric": "api_calls", "customerRef": a, "quantity": "5", "ts": TS})
    pass_start = env.clock.now() - timedelta(seconds=5)
    assert env.worker(INCREMENTAL).run_once(pass_start, full=True).sent == 1
    [row] = env.rows()
    assert (row.created_us, row.sent_us) == (to_micros(pass_start), to_micros(env.clock.now()))
