"""The repository contract suite: every test runs on the in-memory fake, SQLite and
PostgreSQL, and asserts the same answer on each, so fake = SQLite = PostgreSQL per
repository (ADR 0026). A test talks to one repository through a unit of work, as a use
case does, and commits what it wants the next unit of work to see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store
from tests.support.fake_store import FakeStore

AnyStore = Store | FakeStore
TENANT = "acme"


@pytest.fixture(params=["fake", "sqlite", "postgres"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnyStore]:
    """A fresh store of each kind with no tenant at all."""
    opened: AnyStore = (
        FakeStore() if request.param == "fake" else open_store(request.param, request, tmp_path)
    )
    yield opened
    if isinstance(opened, Store):
        opened.close()


@pytest.fixture
def any_store(empty_store: AnyStore) -> AnyStore:
    """A fresh store of each kind with the tenant ``acme`` (and nothing else) in it."""
    with empty_store.unit_of_work(TENANT) as uow:
        uow.tenants.add(TenantRecord(TENANT, "Acme", False, 1))
        uow.commit()
    return empty_store
