"""The app's lifespan starts the SQLite store's WAL checkpointer and its end stops it
(ADR 0930); on PostgreSQL there is nothing to start."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.storage.unit_of_work import Store


def _checkpointers() -> int:
    return sum(thread.name == "sqlite-wal-checkpoint" for thread in threading.enumerate())


def test_the_lifespan_runs_the_checkpointer_while_the_app_serves(
    store: Store, clock: FrozenClock
) -> None:
    ctx = ServiceContext(store=store, clock=clock, limits=EventLimits())
    app = create_app(Settings(database_url=store.url), context=ctx)
    before = _checkpointers()
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        serving = _checkpointers()
    assert serving == before + (1 if store.dialect == "sqlite" else 0)
    assert _checkpointers() == before
    assert store.readiness()["database"] is True  # the store itself stays open (not the app's)
