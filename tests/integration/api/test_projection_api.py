"""``POST /v1/usage/projection`` and the cost in ``GET /v1/usage/current``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

NOON = datetime(2025, 1, 16, 12, 0, tzinfo=UTC)  # half of a daily period has elapsed
DAILY = {"type": "day", "timezone": "UTC"}
FREE_THEN_PAID = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [{"upTo": "1000", "unitAmount": "0"}, {"upTo": None, "unitAmount": "0.002"}],
}


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    clock.set(NOON)
    with running_app(store, clock) as running:
        running.post("/v1/metrics", {"code": "calls", "aggregation": "sum", "period": DAILY})
        running.post("/v1/metrics", {"code": "seats", "aggregation": "max", "period": DAILY})
        yield running


def ingest(client: Client, metric: str, quantity: str) -> None:
    response = client.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": metric,
                    "customerRef": "cus_1",
                    "quantity": quantity,
                    "ts": "2025-01-16T06:00:00Z",
                }
            ]
        },
    )
    assert response.json()["accepted"] == 1, response.text


def project(client: Client, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/usage/projection", {"customerRef": "cus_1", **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def line(body: dict[str, Any], metric: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in body["metrics"] if m["metric"] == metric)
    return found


def test_a_sum_is_projected_at_its_run_rate(client: Client) -> None:
    ingest(client, "calls", "800")
    assert line(project(client), "calls")["projectedQuantity"] == "1600"


def test_the_projected_cost_reprices_the_projected_quantity_through_the_tiers(
    client: Client,
) -> None:
    client.put("/v1/prices/calls", FREE_THEN_PAID)
    ingest(client, "calls", "800")
    calls = line(project(client), "calls")
    assert (calls["currentCost"], calls["projectedCost"]) == ("0.00", "1.20")


def test_a_max_metric_projects_its_current_value(client: Client) -> None:
    ingest(client, "seats", "7")
    assert line(project(client), "seats")["projectedQuantity"] == "7"


def test_credits_are_priced_as_a_negative_amount_off_the_projected_total(client: Client) -> None:
    client.put("/v1/prices/calls", {"model": "per_unit", "currency": "usd", "unitAmount": "0.01"})
    ingest(client, "calls", "1000")
    client.post(
        "/v1/adjustments",
        {"metric": "calls", "customerRef": "cus_1", "delta": "-100", "reason": "credit"},
    )
    body = project(client, metric="calls")
    assert (body["subtotal"], body["projectedSubtotal"], body["credits"], body["total"]) == (
        "10.00",
        "20.00",
        "-1.00",
        "19.00",
    )


def test_the_projection_names_its_period_and_currency(client: Client) -> None:
    client.put("/v1/prices/calls", FREE_THEN_PAID)
    body = project(client, metric="calls")
    assert (body["periodStart"], body["periodEnd"], body["currency"], body["asOf"]) == (
        "2025-01-16T00:00:00.000000Z",
        "2025-01-17T00:00:00.000000Z",
        "usd",
        "2025-01-16T12:00:00.000000Z",
    )


def test_another_tenant_in_the_body_is_forbidden(client: Client) -> None:
    response = client.post("/v1/usage/projection", {"customerRef": "cus_1", "tenantId": "x"})
    assert response.status_code == 403


def test_current_usage_shows_the_cost_rounded_to_the_minor_unit(client: Client) -> None:
    client.put(
        "/v1/customers/cus_1/prices/calls",
        {"model": "per_unit", "currency": "jpy", "unitAmount": "0.5"},
    )
    ingest(client, "calls", "3")
    metrics = client.get("/v1/usage/current", customerRef="cus_1").json()["metrics"]
    cost = next(m for m in metrics if m["metric"] == "calls")["cost"]
    assert (cost["currency"], cost["amount"]) == ("jpy", "2")


def test_an_unpriced_metric_has_no_cost(client: Client) -> None:
    metrics = client.get("/v1/usage/current", customerRef="cus_1").json()["metrics"]
    assert next(m for m in metrics if m["metric"] == "seats")["cost"] is None
