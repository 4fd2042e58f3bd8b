"""A worker sends the rows it planned without reading them back (ADR 0965), and that path
keeps exactly-once: rows another worker claimed first are not sent again, rows past the
batch wait for the next pass, and older due rows (a retry) go before the held ones."""

from __future__ import annotations

from dataclasses import replace

from tests.integration.stripe_push.support import (
    FAST,
    JAN,
    Env,
    assert_identifiers_consistent,
    emulator_events,
)


def _changes(env: Env, count: int, quantity: int = 2) -> list[str]:
    refs = [env.customer(f"C{i}") for i in range(count)]
    env.ingest(
        *[
            {
                "metric": "api_calls",
                "customerRef": ref,
                "quantity": str(quantity),
                "ts": "2026-01-10T00:00:00Z",
            }
            for ref in refs
        ]
    )
    return refs


def test_rows_another_worker_claimed_first_are_not_sent_again(env: Env) -> None:
    env.metric("api_calls", "sum")
    refs = _changes(env, 3)
    planner, other = env.worker(), env.worker()
    assert planner.plan(env.clock.now(), full=True) == 3  # held by the planner
    claimed, report = other.send_due(env.clock.now())  # the other claims them from the store
    assert (claimed, report.sent) == (3, 3)
    claimed, report = planner.send_due(env.clock.now())
    assert (claimed, report.sent) == (0, 0)
    assert [r.attempts for r in env.rows()] == [1, 1, 1]
    for ref in refs:
        assert env.stripe_total("api_calls", ref, JAN) == env.local("api_calls", ref, JAN) == 2
    assert len(emulator_events(env.emu)) == 3
    assert_identifiers_consistent(env.emu)


def test_held_rows_past_the_batch_wait_behind_older_due_rows(env: Env) -> None:
    env.metric("api_calls", "sum")
    first = _changes(env, 1)
    other = env.worker()
    assert other.plan(env.clock.now(), full=True) == 1  # in the outbox, held by another
    env.advance(1)  # planned before the next plan's rows
    worker = env.worker(replace(FAST, batch=2))
    refs = [*first, *_changes(env, 3)]
    assert worker.plan(env.clock.now(), full=True) == 3  # the three new ones, held
    sent_first, _ = worker.send_due(env.clock.now())
    oldest = {r.customer_ref: r.attempts for r in env.rows(status="sent")}
    assert (sent_first, first[0] in oldest, len(oldest)) == (2, True, 2)
    passes = [worker.send_due(env.clock.now())[0] for _ in range(3)]
    assert passes == [2, 0, 0]
    assert {r.status for r in env.rows()} == {"sent"}
    assert {r.attempts for r in env.rows()} == {1}
    for ref in refs:
        assert env.stripe_total("api_calls", ref, JAN) == env.local("api_calls", ref, JAN) == 2
    assert len(emulator_events(env.emu)) == 4
    assert_identifiers_consistent(env.emu)
