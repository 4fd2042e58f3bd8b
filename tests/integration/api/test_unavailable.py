"""A store that cannot be reached answers 503 with a problem body and acknowledges nothing."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import NOW


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_is_503_with_a_problem() -> None:
    store = Store(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none")
    app = create_app(
        Settings(database_url=store.url),
        context=ServiceContext(store=store, clock=FrozenClock(NOW)),
    )
    with TestClient(app) as client:
        response = client.post(
            "/v1/events/ingest",
            headers={"Authorization": "Bearer smk_x"},
            json={"events": [{"metric": "m", "customerRef": "c"}]},
        )
        ready = client.get("/health/ready")
    assert (response.status_code, response.json()["code"], ready.status_code) == (
        503,
        "unavailable",
        503,
    )
    assert response.headers["content-type"].startswith("application/problem+json")
