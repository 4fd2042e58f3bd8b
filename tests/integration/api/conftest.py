"""The real FastAPI app in process, on each store, with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import (
    SCOPES,
    bootstrap,
    create_tenant,
    issue_key,
)
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store

ADMIN_KEY = "smk_test_admin_key_0001"


@dataclass
class Api:
    client: TestClient
    store: Store
    clock: FrozenClock
    key: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def post(self, path: str, json: object, key: str | None = None) -> Response:
        return self.client.post(path, json=json, headers=self.headers(key))

    def get(self, path: str, key: str | None = None, **params: Any) -> Response:
        return self.client.get(path, params=params, headers=self.headers(key))

    def new_key(self, scopes: set[str], tenant: str = "default") -> str:
        with self.store.unit_of_work() as uow:
            if uow.tenants.get(tenant) is None:
                create_tenant(
                    uow, tenant, name=None, auto_create_metrics=True, now=self.clock.now()
                )
            issued = issue_key(uow, tenant, frozenset(scopes), label=None, now=self.clock.now())
            uow.commit()
        return issued.secret


def _serve(store: Store, clock: FrozenClock, stripe: StripeAccess) -> Iterator[Api]:
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN_KEY, auto_create_metrics=True)
        uow.commit()
    ctx = ServiceContext(store=store, clock=clock, limits=EventLimits(), stripe=stripe)
    app = create_app(Settings(database_url=store.url), context=ctx)
    with TestClient(app) as client:
        yield Api(client, store, clock, ADMIN_KEY)


@pytest.fixture
def api(store: Store, clock: FrozenClock) -> Iterator[Api]:
    yield from _serve(store, clock, StripeAccess())


@pytest.fixture
def api_with_secrets(store: Store, clock: FrozenClock) -> Iterator[Api]:
    """The app with secrets at rest configured, so routes storing Stripe keys can answer."""
    yield from _serve(store, clock, StripeAccess(cipher=SecretBox("k" * 32)))


__all__ = ["SCOPES", "Api"]
