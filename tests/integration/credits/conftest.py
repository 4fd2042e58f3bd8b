"""The app on each store with a metric ``tokens`` priced by graduated tiers in USD."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

# 1000 tokens free, then 0.2 cents each; a minimum of $1 a period.
PRICE = {
    "model": "graduated",
    "currency": "usd",
    "minimum": "1",
    "tiers": [{"upTo": "1000", "unitAmount": "0"}, {"upTo": None, "unitAmount": "0.002"}],
}


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock) as running:
        running.post("/v1/metrics", {"code": "tokens", "aggregation": "sum"})
        running.post("/v1/metrics", {"code": "images", "aggregation": "sum"})
        assert running.put("/v1/prices/tokens", PRICE).status_code == 201
        assert (
            running.put(
                "/v1/prices/images", {"model": "per_unit", "currency": "usd", "unitAmount": "0.05"}
            ).status_code
            == 201
        )
        yield running


def track(client: Client, events: list[dict[str, Any]]) -> None:
    response = client.post("/v1/events/ingest", {"events": events})
    assert response.status_code in (200, 201, 202), response.text


def event(quantity: str, key: str, metric: str = "tokens", **extra: Any) -> dict[str, Any]:
    return {
        "metric": metric,
        "customerRef": "cus_1",
        "quantity": quantity,
        "idempotencyKey": key,
        **extra,
    }


def grant(client: Client, amount: str, key: str, **fields: Any) -> Any:
    body = {"amount": amount, "idempotencyKey": key, **fields}
    if "unit" not in fields:
        body.setdefault("currency", "usd")
    return client.post("/v1/customers/cus_1/credit-grants", body)


def credits(client: Client) -> Any:
    return client.get("/v1/customers/cus_1/credits").json()
