"""Defaults that keep out of a single-tenant user's way (issue 18, finding 13) and metric
names checked where a request names one (finding 12): no rate limit unless configured, no
metric created by a typo, unknown metrics refused with the nearest codes named, and new
metric codes held to the identifier alphabet while older codes keep working."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.service.catalog.definitions import encode_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store

KEY = "smk_test_defaults_key_0001"
TS = "2025-01-10T00:00:00Z"
HEADERS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def http(store: Store, clock: FrozenClock) -> Iterator[TestClient]:
    """The app as ``serve`` makes it: the default settings, a bootstrapped default tenant."""
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), KEY)
        uow.commit()
    ctx = ServiceContext(store=store, clock=clock, limits=EventLimits())
    with TestClient(create_app(Settings(database_url=store.url), context=ctx)) as client:
        assert (
            client.post(
                "/v1/metrics", json={"code": "api_calls", "aggregation": "sum"}, headers=HEADERS
            ).status_code
            == 201
        )
        yield client


def ingest(http: TestClient, metric: str) -> dict[str, Any]:
    body = {"events": [{"metric": metric, "customerRef": "cus_1", "quantity": "1", "ts": TS}]}
    answer = http.post("/v1/events/ingest", json=body, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["results"][0]
    return result


def test_rate_limiting_is_off_unless_configured(http: TestClient) -> None:
    statuses = {http.get("/v1/metrics", headers=HEADERS).status_code for _ in range(400)}
    assert statuses == {200}


def test_the_default_tenant_does_not_auto_create_metrics(http: TestClient) -> None:
    tenant = http.get("/v1/admin/tenants", headers=HEADERS).json()
    assert tenant["data"][0]["autoCreateMetrics"] is False


def test_a_typo_is_refused_naming_the_nearest_metric(http: TestClient) -> None:
    result = ingest(http, "api_cals")
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "rejected",
        "unknown_metric",
        "metric",
    )
    assert "did you mean 'api_calls'?" in result["error"]["message"]
    assert [m["code"] for m in http.get("/v1/metrics", headers=HEADERS).json()["data"]] == [
        "api_calls"
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/backfills", {"metric": "api_cals"}),
        ("POST", "/v1/rebuilds", {"metric": "api_cals"}),
        ("POST", "/v1/reconciliation/runs", {"metric": "api_cals"}),
    ],
)
def test_requests_naming_an_unknown_metric_are_422(
    http: TestClient, method: str, path: str, body: dict[str, str]
) -> None:
    answer = http.request(method, path, json=body, headers=HEADERS)
    problem = answer.json()
    assert (answer.status_code, problem["code"], problem["errors"][0]["field"]) == (
        422,
        "unknown_metric",
        "metric",
    )
    assert "did you mean 'api_calls'?" in problem["detail"]


@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "=cmd", "9lives", "a b", "x" * 129])
def test_a_new_metric_code_outside_the_alphabet_is_refused(http: TestClient, code: str) -> None:
    answer = http.post("/v1/metrics", json={"code": code}, headers=HEADERS)
    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, "code")


def test_a_code_stored_before_the_alphabet_keeps_working(http: TestClient, store: Store) -> None:
    legacy = "calls per (region)"
    with store.unit_of_work("default") as uow:
        uow.metrics.add(legacy, encode_metric(Metric(code=legacy)), 0)
        uow.commit()
    assert ingest(http, legacy)["status"] == "accepted"
    again = http.post("/v1/metrics", json={"code": legacy}, headers=HEADERS)
    assert again.status_code == 200
