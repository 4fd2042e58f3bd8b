"""Rebuild jobs by API and voiding any stored key, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api

SLASHED = "order/42/line/4"


def ingest(api: Api, key: str, quantity: str = "3") -> None:
    body = {
        "events": [
            {
                "metric": "api_calls",
                "customerRef": "cus_1",
                "quantity": quantity,
                "ts": "2025-01-10T00:00:00Z",
                "idempotencyKey": key,
            }
        ]
    }
    assert api.post("/v1/events/ingest", body).json()["accepted"] == 1


def value(api: Api) -> Any:
    body = api.get("/v1/usage/current", customerRef="cus_1", metric="api_calls").json()
    return body["metrics"][0]["value"]


def test_a_rebuild_done_within_the_wait_answers_with_its_result(api: Api) -> None:
    ingest(api, "k1")
    response = api.post("/v1/rebuilds", {"metric": "api_calls", "waitSeconds": 30})
    body = response.json()
    assert (response.status_code, body["status"], body["events"]) == (200, "succeeded", 1)


def test_a_rebuild_job_can_be_polled_by_its_id(api: Api) -> None:
    ingest(api, "k1")
    started = api.post(
        "/v1/rebuilds", {"metric": "api_calls", "customerRef": "cus_1", "waitSeconds": 30}
    )
    polled = api.get(started.headers["location"]).json()
    assert (polled["id"], polled["customerRef"], polled["counters"]) == (
        started.json()["id"],
        "cus_1",
        1,
    )


def test_a_rebuild_of_an_unknown_metric_is_refused(api: Api) -> None:
    response = api.post("/v1/rebuilds", {"metric": "nosuch"})
    assert (response.status_code, response.json()["code"]) == (422, "unknown_metric")


def test_a_rebuild_needs_the_admin_scope(api: Api) -> None:
    reader = api.new_key({"read"})
    assert api.post("/v1/rebuilds", {"metric": "api_calls"}, key=reader).status_code == 403


def test_a_key_with_slashes_is_voidable_by_path(api: Api) -> None:
    ingest(api, SLASHED)
    response = api.post("/v1/events/order%2F42%2Fline%2F4/void", {})
    assert (response.status_code, response.json()["idempotencyKey"]) == (200, SLASHED)
    assert value(api) == "0"


def test_a_key_is_voidable_by_body(api: Api) -> None:
    ingest(api, "odd key?#%")
    response = api.post("/v1/events/void", {"idempotencyKey": "odd key?#%"})
    assert (response.status_code, value(api)) == (200, "0")


def test_voiding_an_unknown_key_is_a_404(api: Api) -> None:
    response = api.post("/v1/events/void", {"idempotencyKey": "nope/nope"})
    assert (response.status_code, response.json()["code"]) == (404, "event_not_found")
