"""A worker SIGKILLed between the outbox and Stripe, and two workers at once: Stripe's
totals still equal the ledger and no identifier is ever sent with two different values."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.stripe_push.support import (
    JAN,
    Env,
    assert_identifiers_consistent,
    emulator_events,
)

STRIPEMETER = str(Path(sys.executable).parent / "stripemeter")


def _real_time_setup(env: Env) -> tuple[list[str], tuple[datetime, datetime]]:
    """The worker subprocess runs on the wall clock, so the emulator does too here."""
    env.emu.emulator.clock.restore({"frozen_at": None, "offset": 0})
    now = datetime.now(UTC).replace(microsecond=0)
    env.clock.set(now)
    env.metric("api_calls", "sum")
    refs = [env.customer(f"C{i}") for i in range(3)]
    ts = (now - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    env.ingest(
        *[
            {"metric": "api_calls", "customerRef": r, "quantity": str(3 + i), "ts": ts}
            for i, r in enumerate(refs)
        ]
    )
    start = now.replace(day=1, hour=0, minute=0, second=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return refs, (start, end)


@pytest.mark.parametrize("point", ["before_send", "after_send"])
def test_a_worker_killed_mid_push_resumes_from_the_outbox(env: Env, point: str) -> None:
    refs, period = _real_time_setup(env)
    environment = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": env.store.url,
        "STRIPEMETER_STRIPE_SECRET_KEY": "sk_test_push_tests",
        "STRIPEMETER_STRIPE_API_BASE": env.emu.url,
        "STRIPEMETER_PUSH_LEASE_SECONDS": "1",
        "STRIPEMETER_TEST_CRASH_POINT": point,
    }
    killed = subprocess.run(
        [STRIPEMETER, "worker", "--once"],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert len(env.rows()) == len(refs)  # the outbox was written before any Stripe call
    env.clock.set(datetime.now(UTC) + timedelta(seconds=2))  # past the dead worker's lease
    env.drain()
    assert [(r.status, r.last_error) for r in env.rows()] == [("sent", None)] * len(refs)
    for ref in refs:
        assert env.stripe_total("api_calls", ref, period) == env.local("api_calls", ref, period)
    assert len(emulator_events(env.emu)) == len(refs)
    assert_identifiers_consistent(env.emu)


def test_two_workers_at_once_push_every_delta_exactly_once(env: Env) -> None:
    env.metric("api_calls", "sum")
    refs = [env.customer(f"C{i}") for i in range(6)]
    for round_ in range(3):
        env.ingest(
            *[
                {
                    "metric": "api_calls",
                    "customerRef": r,
                    "quantity": str(round_ + 1),
                    "ts": "2026-01-10T00:00:00Z",
                }
                for r in refs
            ]
        )
        errors: list[BaseException] = []

        def run(errors: list[BaseException] = errors) -> None:
            try:
                env.drain(env.worker())
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
    for ref in refs:
        assert env.stripe_total("api_calls", ref, JAN) == env.local("api_calls", ref, JAN) == 6
    sent = env.rows(status="sent")
    assert len(emulator_events(env.emu)) == len(sent) == len({r.push_id for r in sent})
    assert_identifiers_consistent(env.emu)
