"""A pusher SIGKILLed mid-push is taken over within one short lease (issue 18, finding 14).

Worker A (a real ``stripemeter worker`` process) claims every push, sends one and is killed;
its other pushes stay leased, but only for the default lease (renewed by a heartbeat while
a worker lives, never past it once it is dead). Worker B, started after the crash, takes
them over and finishes; Stripe's totals then equal the ledger and no identifier was ever
sent with two values. The time from the crash to the takeover is printed (a figure, not an
assertion); the test's only deadline is a guard against a hang, well under the old 120 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.config import Settings
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.storage.unit_of_work import Store
from tests.integration.stripe_push.support import (
    Env,
    assert_identifiers_consistent,
    build_env,
    emulator_events,
)

STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))
CUSTOMERS = 6
GUARD_S = 60.0  # a hang guard: the old two-minute lease could never finish inside it


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store(f"sqlite:///{tmp_path / 'takeover.db'}")
    store.migrate()
    with EmulatorServer(EmulatorConfig(auto_deliver_webhooks=False)) as emu:
        built = build_env(store, emu)
        built.clock.set(datetime.now(UTC).replace(microsecond=0))
        yield built
        built.pool.close()
    store.close()


def _worker(env: Env, log: Path, crash: str | None) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": env.store.url,
        "STRIPEMETER_STRIPE_SECRET_KEY": "sk_test_push_tests",
        "STRIPEMETER_STRIPE_API_BASE": env.emu.url,
        "STRIPEMETER_LOG_FORMAT": "text",
    }
    environment.pop("STRIPEMETER_PUSH_LEASE_SECONDS", None)  # the default lease is tested
    if crash:
        environment["STRIPEMETER_TEST_CRASH_POINT"] = crash
    return subprocess.Popen(
        [STRIPEMETER, "worker", "--interval", "0.2"],
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _usage(env: Env) -> tuple[list[str], tuple[datetime, datetime]]:
    env.metric("api_calls", "sum")
    refs = [env.customer(f"C{i}") for i in range(CUSTOMERS)]
    now = env.clock.now()
    ts = (now - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    env.ingest(
        *[
            {"metric": "api_calls", "customerRef": r, "quantity": str(3 + i), "ts": ts}
            for i, r in enumerate(refs)
        ]
    )
    start = now.replace(day=1, hour=0, minute=0, second=0)
    return refs, (start, (start + timedelta(days=32)).replace(day=1))


def test_a_killed_pushers_work_is_finished_by_another_within_one_lease(
    env: Env, tmp_path: Path
) -> None:
    refs, period = _usage(env)
    first = _worker(env, tmp_path / "a.log", crash="after_send")
    assert first.wait(GUARD_S) == -9, (tmp_path / "a.log").read_text()[-2000:]
    crashed, died_us = time.monotonic(), to_micros(datetime.now(UTC))
    lease_us = int(Settings().push_lease_seconds * 1_000_000)
    held = [r for r in env.rows() if r.status == "pending"]
    # The dead worker's pushes are held for at most one lease past its death.
    assert held and all(
        r.lease_until_us is not None and r.lease_until_us <= died_us + lease_us for r in held
    )
    lapse_s = (max(r.lease_until_us or 0 for r in held) - died_us) / 1_000_000
    print(f"\nthe dead worker's pushes were held for {lapse_s:.1f} s more")
    second = _worker(env, tmp_path / "b.log", crash=None)
    try:
        while any(r.status != "sent" for r in env.rows()):
            assert time.monotonic() - crashed < GUARD_S, (tmp_path / "b.log").read_text()[-3000:]
            time.sleep(0.2)
        print(f"\ntakeover: all pushes sent {time.monotonic() - crashed:.1f} s after the crash")
    finally:
        second.terminate()
        second.wait(30)
    for ref in refs:
        assert env.stripe_total("api_calls", ref, period) == env.local("api_calls", ref, period)
    assert len({e["identifier"] for e in emulator_events(env.emu)}) == len(refs)
    assert_identifiers_consistent(env.emu)
