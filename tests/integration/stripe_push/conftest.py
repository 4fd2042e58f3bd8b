"""One emulator per test process (reset and frozen at T0 before every test) and an
``env``: the ``default`` tenant of a fresh store (SQLite and PostgreSQL) wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
from stripemeter_server.storage.unit_of_work import Store
from tests.integration.stripe_push.support import T0, Env, build_env


@pytest.fixture(scope="session")
def emu() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(clock=EmulatorClock(frozen_at=T0), auto_deliver_webhooks=False)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(emu: EmulatorServer) -> None:
    emu.control("POST", "/reset")
    emu.control(
        "POST",
        "/config",
        {
            "requests_per_second": None,
            "meter_events_per_second": None,
            "require_known_customers": True,
            "meter_event_concurrency_per_customer": True,
        },
    )
    emu.emulator.clock.restore({"frozen_at": T0, "offset": 0})


@pytest.fixture
def env(store: Store, emu: EmulatorServer) -> Iterator[Env]:
    built = build_env(store, emu)
    yield built
    built.pool.close()
