"""A real app over a test store, for API tests that need their own small fixture."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store

TEST_KEY = "smk_test_prices_alerts_0001"


@dataclass
class Client:
    http: TestClient
    store: Store
    clock: FrozenClock

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TEST_KEY}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.http.get(path, params=params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.http.post(path, json=body, headers=self.headers)

    def put(self, path: str, body: Any) -> Any:
        return self.http.put(path, json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.http.patch(path, json=body, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.http.delete(path, headers=self.headers)


@contextmanager
def running_app(store: Store, clock: FrozenClock, **settings: Any) -> Iterator[Client]:
    """The app with a bootstrapped admin key of tenant ``default`` (auto-created metrics);
    ``settings`` override the defaults (e.g. ``allow_private_webhooks=True`` to deliver
    alerts to a local receiver)."""
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), TEST_KEY, auto_create_metrics=True)
        uow.commit()
    ctx = ServiceContext(store=store, clock=clock, limits=EventLimits())
    app = create_app(Settings(database_url=store.url, **settings), context=ctx)
    with TestClient(app) as http:
        yield Client(http, store, clock)
