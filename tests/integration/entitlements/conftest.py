"""The app on each store with a metric ``tokens``, a metered feature over it and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

TOKENS = {"type": "metered", "metric": "tokens"}


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock) as running:
        assert (
            running.post("/v1/metrics", {"code": "tokens", "aggregation": "sum"}).status_code == 201
        )
        assert running.put("/v1/features/tokens", TOKENS).status_code == 201
        yield running


def track(client: Client, customer: str, quantity: str, key: str, **extra: Any) -> None:
    event = {
        "metric": "tokens",
        "customerRef": customer,
        "quantity": quantity,
        "idempotencyKey": key,
        **extra,
    }
    response = client.post("/v1/events/ingest", {"events": [event]})
    assert response.status_code in (200, 201, 202), response.text


def grant(client: Client, customer: str, limit: str, **fields: Any) -> Any:
    return client.put(f"/v1/customers/{customer}/entitlements/tokens", {"limit": limit, **fields})
