"""Apps over one database, as separate nodes would be: each with its own Store (pool)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import NOW, open_store

ADMIN = "smk_ops_admin_key_000001"


@dataclass
class Node:
    http: TestClient
    store: Store

    def call(self, method: str, path: str, key: str = ADMIN, **kw: Any) -> Any:
        return self.http.request(method, path, headers={"Authorization": f"Bearer {key}"}, **kw)


@contextmanager
def nodes(url: str, count: int = 2, **settings: Any) -> Iterator[list[Node]]:
    """``count`` apps on the database at ``url``, each with its own connection pool."""
    with ExitStack() as stack:
        found = []
        for _ in range(count):
            store = Store(url, pool_size=4)
            stack.callback(store.close)
            ctx = ServiceContext(
                store=store,
                clock=FrozenClock(NOW),
                limits=EventLimits(),
                stripe=StripeAccess(cipher=SecretBox("k" * 32)),
            )
            app = create_app(Settings(database_url=url, **settings), context=ctx)
            found.append(Node(stack.enter_context(TestClient(app)), store))
        yield found


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh bootstrapped database (tenant ``default``, admin key ``ADMIN``)."""
    store = open_store(request.param, request, tmp_path)
    with store.unit_of_work() as uow:
        bootstrap(uow, NOW, ADMIN, auto_create_metrics=True)
        uow.commit()
    yield store.url
    store.close()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    store = open_store("postgres", request, tmp_path)
    with store.unit_of_work() as uow:
        bootstrap(uow, NOW, ADMIN, auto_create_metrics=True)
        uow.commit()
    yield store.url
    store.close()
