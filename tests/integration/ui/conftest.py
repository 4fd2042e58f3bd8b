"""The dashboard in process (TestClient) on each store, with a frozen clock and helpers to
sign in, read a page's CSRF token and ingest events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap, create_tenant, issue_key
from stripemeter_server.storage.unit_of_work import Store

ADMIN_KEY = "smk_test_ui_admin_0001"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass
class Ui:
    app: Any
    store: Store
    clock: FrozenClock

    def browser(self) -> TestClient:
        """A fresh client: its own cookie jar, no redirects followed."""
        return TestClient(self.app, follow_redirects=False)

    def sign_in(self, key: str = ADMIN_KEY) -> TestClient:
        client = self.browser()
        page = client.get("/ui/sign-in")
        token = _TOKEN.search(page.text)
        assert token is not None
        answer = client.post("/ui/sign-in", data={"key": key, "token": token.group(1)})
        assert answer.headers["location"] == "/ui/overview", answer.text
        return client

    def new_key(self, scopes: set[str], tenant: str = "default") -> str:
        with self.store.unit_of_work() as uow:
            if uow.tenants.get(tenant) is None:
                create_tenant(
                    uow, tenant, name=None, auto_create_metrics=True, now=self.clock.now()
                )
            issued = issue_key(uow, tenant, frozenset(scopes), label=None, now=self.clock.now())
            uow.commit()
        return issued.secret

    def ingest(self, events: list[dict[str, Any]], key: str = ADMIN_KEY) -> httpx2.Response:
        # No ``with``: the fixture's client runs the app's lifespan once for the whole test
        # (a client's own ``with`` would stop the ingest committer on leaving).
        return self.browser().post(
            "/v1/events/ingest", json={"events": events}, headers={"Authorization": f"Bearer {key}"}
        )

    def api_send(self, method: str, path: str, body: Any, key: str = ADMIN_KEY) -> Any:
        answer = self.browser().request(
            method, path, json=body, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def api_get(self, path: str, key: str = ADMIN_KEY, **params: Any) -> Any:
        answer = self.browser().get(path, params=params, headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


def csrf_of(page: httpx2.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def ui(store: Store, clock: FrozenClock) -> Iterator[Ui]:
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN_KEY, auto_create_metrics=True)
        uow.commit()
    ctx = ServiceContext(store=store, clock=clock, limits=EventLimits())
    app = create_app(Settings(database_url=store.url), context=ctx)
    with TestClient(app):  # runs the lifespan once for every client of the test
        yield Ui(app, store, clock)
