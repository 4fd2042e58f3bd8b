"""Shared fixtures: both stores (SQLite and a throwaway PostgreSQL), a frozen clock, apps."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.postgres import PostgresServer

NOW = datetime(2025, 1, 16, 14, 30, tzinfo=UTC)
TEMPLATE_DB = "stripemeter_template"

# Hypothesis's per-example deadline and "input generation is slow" check time the run: on
# a shared 2-core machine they fail tests whose properties hold. Tests assert behaviour,
# never time.
settings.register_profile(
    "stripemeter", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("stripemeter")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    store = Store(server.create_database(TEMPLATE_DB))
    store.migrate()
    store.close()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.close()
    return path


def open_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, migrated store of the given kind (copied from a migrated template)."""
    if kind == "sqlite":
        path = tmp_path / f"store-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Store(f"sqlite:///{path}")
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    return Store(server.create_database(name, template=TEMPLATE_DB), pool_size=4)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)
