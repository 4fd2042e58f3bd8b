"""Metrics CRUD and the usage reads through the real app."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.integration.api.conftest import Api

METRIC = {
    "code": "gb",
    "aggregation": "max",
    "unit": "GB",
    "period": {"type": "month", "anchorDay": 31, "timezone": "UTC"},
}


def ingest(api: Api, *events: Mapping[str, object]) -> None:
    response = api.post("/v1/events/ingest", {"events": list(events)})
    assert response.status_code == 200, response.text


def test_creating_the_same_metric_twice_is_idempotent(api: Api) -> None:
    assert api.post("/v1/metrics", METRIC).status_code == 201
    assert api.post("/v1/metrics", METRIC).status_code == 200


def test_a_different_definition_under_the_same_code_is_409(api: Api) -> None:
    api.post("/v1/metrics", METRIC)
    response = api.post("/v1/metrics", {**METRIC, "aggregation": "sum"})
    assert (response.status_code, response.json()["code"]) == (409, "metric_exists")


def test_a_bad_metric_names_the_field(api: Api) -> None:
    response = api.post("/v1/metrics", {**METRIC, "period": {"type": "month", "anchorDay": 40}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "period.anchorDay"


def test_unimeter_aliases_are_accepted(api: Api) -> None:
    body = api.post("/v1/metrics", {"code": "u", "aggregation": "COUNT_UNIQUE"}).json()
    assert body["aggregation"] == "unique_count"


def test_patching_the_aggregation_rebuilds(api: Api) -> None:
    api.post("/v1/metrics", METRIC)
    ingest(
        api,
        {"metric": "gb", "customerRef": "c", "quantity": "3", "ts": "2025-01-10T00:00:00Z"},
        {"metric": "gb", "customerRef": "c", "quantity": "4", "ts": "2025-01-11T00:00:00Z"},
    )
    patched = api.client.patch(
        "/v1/metrics/gb", json={"aggregation": "sum"}, headers=api.headers()
    ).json()
    usage = api.get("/v1/usage/current", customerRef="c").json()
    assert (patched["rebuilt"], usage["metrics"][0]["value"]) == (True, "7")


def test_query_returns_every_aggregate_for_any_window(api: Api) -> None:
    api.post("/v1/metrics", METRIC)
    ingest(
        api,
        *[
            {
                "metric": "gb",
                "customerRef": "c",
                "quantity": q,
                "ts": f"2025-01-{10 + i}T00:00:00Z",
                "resourceId": f"r{i % 2}",
            }
            for i, q in enumerate(["3", "5", "4"])
        ],
    )
    body = api.post(
        "/v1/usage/query",
        {
            "customerRef": "c",
            "metric": "gb",
            "start": "2025-01-10T00:00:00Z",
            "end": "2025-01-12T00:00:00Z",
        },
    ).json()
    assert body["value"] == {
        "count": 2,
        "sum": "8",
        "max": "5",
        "min": "3",
        "latest": "5",
        "uniqueCount": 0,
        "avg": "4",
        "billable": "5",
    }


def test_periods_lists_bounds_values_and_status(api: Api) -> None:
    api.post("/v1/metrics", METRIC)
    ingest(api, {"metric": "gb", "customerRef": "c", "quantity": "2", "ts": "2024-12-31T00:00:00Z"})
    body = api.get(
        "/v1/usage/periods",
        customerRef="c",
        metric="gb",
        **{"from": "2024-12-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"},
    ).json()
    assert [(p["periodStart"][:10], p["value"], p["status"]) for p in body["data"]] == [
        ("2024-11-30", None, "closed"),
        ("2024-12-31", "2", "open"),
        ("2025-01-31", None, "open"),
    ]


def test_history_buckets_by_day_and_groups(api: Api) -> None:
    ingest(
        api,
        *[
            {
                "metric": "calls",
                "customerRef": "c",
                "quantity": "1",
                "ts": f"2025-01-1{d}T0{h}:00:00Z",
                "meta": {"region": r},
            }
            for d, h, r in [(0, 1, "eu"), (0, 2, "us"), (1, 1, "eu")]
        ],
    )
    body = api.get(
        "/v1/usage/history",
        customerRef="c",
        metric="calls",
        step="day",
        groupBy="meta.region",
        **{"from": "2025-01-10T00:00:00Z", "to": "2025-01-12T00:00:00Z"},
    ).json()
    assert [(p["start"][:10], p["group"], p["value"]) for p in body["data"]] == [
        ("2025-01-10", "eu", "1"),
        ("2025-01-10", "us", "1"),
        ("2025-01-11", "eu", "1"),
        ("2025-01-11", "us", "0"),
    ]


def test_closing_a_period_by_api_freezes_it(api: Api) -> None:
    ingest(
        api, {"metric": "calls", "customerRef": "c", "quantity": "5", "ts": "2025-01-10T00:00:00Z"}
    )
    closed = api.post(
        "/v1/periods/close",
        {"customerRef": "c", "metric": "calls", "periodStart": "2025-01-01T00:00:00Z"},
    ).json()
    late = api.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "calls",
                    "customerRef": "c",
                    "quantity": "1",
                    "ts": "2025-01-11T00:00:00Z",
                }
            ]
        },
    ).json()
    adjustments = api.get("/v1/adjustments", customerRef="c").json()["data"]
    assert (closed["finalValue"], late["results"][0]["lateAfterClose"]) == ("5", True)
    assert [(a["reason"], a["delta"], a["periodStart"][:10]) for a in adjustments] == [
        ("late_event", "1", "2025-02-01")
    ]


def test_a_close_asked_for_over_the_api_is_manual_whatever_the_body_claims(api: Api) -> None:
    ingest(
        api, {"metric": "calls", "customerRef": "c", "quantity": "5", "ts": "2025-01-10T00:00:00Z"}
    )
    body = {
        "customerRef": "c",
        "metric": "calls",
        "periodStart": "2025-01-01T00:00:00Z",
        "reason": "invoice_finalized",
    }
    closed = api.post("/v1/periods/close", body).json()
    assert closed["reason"] == "manual"


def test_customer_record_round_trips(api: Api) -> None:
    api.client.put(
        "/v1/customers/c",
        json={"stripeCustomerId": "cus_1", "anchorDay": 15, "timezone": "Europe/Berlin"},
        headers=api.headers(),
    )
    body = api.get("/v1/customers/c").json()
    assert (body["stripeCustomerId"], body["anchorDay"], body["timezone"]) == (
        "cus_1",
        15,
        "Europe/Berlin",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": 0.0}, "timezone"),  # falsy, not a string: was stored as given
        ({"timezone": ""}, "timezone"),
        ({"timezone": False}, "timezone"),
        ({"anchorDay": 0}, "anchorDay"),
        ({"anchorDay": 1.0}, "anchorDay"),
    ],
)
def test_customer_terms_of_the_wrong_type_are_refused_by_field(
    api: Api, change: dict[str, object], field: str
) -> None:
    response = api.client.put("/v1/customers/c", json=change, headers=api.headers())
    problem = response.json()
    assert (response.status_code, problem["code"], problem["errors"][0]["field"]) == (
        422,
        "invalid_customer",
        field,
    )
    assert api.client.get("/v1/customers/c", headers=api.headers()).status_code == 404


def test_unknown_metric_reads_are_404(api: Api) -> None:
    response = api.post(
        "/v1/usage/query",
        {
            "customerRef": "c",
            "metric": "nope",
            "start": "2025-01-01T00:00:00Z",
            "end": "2025-02-01T00:00:00Z",
        },
    )
    assert (response.status_code, response.json()["code"]) == (404, "metric_not_found")


def test_health_and_openapi(api: Api) -> None:
    assert api.client.get("/health/ready").json()["checks"] == {
        "database": True,
        "migrations": True,
        "workers": True,  # no loop required or known yet
    }
    assert "/v1/events/ingest" in api.client.get("/openapi.json").json()["paths"]
    assert "stripemeter_ingest_events_total" in api.client.get("/metrics").text


def test_api_keys_can_be_created_and_revoked(api: Api) -> None:
    created = api.post("/v1/admin/api-keys", {"scopes": ["read"]}).json()
    assert api.get("/v1/metrics", key=created["key"]).status_code == 200
    api.client.delete(f"/v1/admin/api-keys/{created['id']}", headers=api.headers())
    assert api.get("/v1/metrics", key=created["key"]).status_code == 401
