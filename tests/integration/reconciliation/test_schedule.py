"""Scheduled runs: one run per metric and period is queued within the lead before the
period's close, however many workers look; a claimed run is executed by one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stripemeter_server.service.reconciliation.engine import claim
from stripemeter_server.service.reconciliation.schedule import schedule_due
from stripemeter_server.workers.reconciliation import ReconciliationWorker
from tests.integration.reconciliation.support import POLICY
from tests.integration.stripe_push.support import Env

# January closes at 2026-02-01 + 48 h (the metric's lateness window).
CLOSE = datetime(2026, 2, 3, tzinfo=UTC)


def test_one_run_is_queued_inside_the_lead_and_none_outside(env: Env) -> None:
    env.metric("api_calls", "sum")
    early = schedule_due(env.ctx, CLOSE - timedelta(hours=2), 3600)
    first = schedule_due(env.ctx, CLOSE - timedelta(minutes=30), 3600)
    again = schedule_due(env.ctx, CLOSE - timedelta(minutes=10), 3600)
    assert (len(early), len(first), again) == (0, 1, [])


def test_a_scheduled_run_is_executed_once_by_the_worker_loop(env: Env) -> None:
    env.metric("api_calls", "sum")
    env.clock.set(CLOSE - timedelta(minutes=30))
    (run_id,) = schedule_due(env.ctx, env.clock.now(), 3600)
    first = ReconciliationWorker(env.ctx, POLICY, schedule=False)
    assert first.run_once() == 1
    assert claim(env.ctx, "default", run_id, POLICY) is None  # done: nobody runs it again
    with env.store.unit_of_work("default", read_only=True) as uow:
        run = uow.reconciliation.get_run(run_id)
    assert run is not None and (run.trigger, run.status) == ("schedule", "done")
