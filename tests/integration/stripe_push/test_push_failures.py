"""Parked pushes: a permanent refusal is kept with its reason, shown, and retried on demand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from tests.integration.stripe_push.support import JAN, NOW, TEST_KEY, Env

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def http(env: Env) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=env.store.url), context=env.ctx)
    with TestClient(app) as client:
        yield client


def _park_for_missing_meter(env: Env) -> str:
    env.metric("api_calls", "sum", meter=False)
    ref = env.customer()
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "9", "ts": "2026-01-10T00:00:00Z"}
    )
    env.drain()
    return ref


def test_no_meter_parks_the_push_then_a_retry_sends_it(env: Env, http: TestClient) -> None:
    ref = _park_for_missing_meter(env)
    failed = http.get("/v1/pushes", params={"status": "failed"}, headers=AUTH).json()["data"]
    assert [(p["customerRef"], p["value"], p["lastErrorCode"]) for p in failed] == [
        (ref, "9", "no_meter")
    ]
    env.meter("api_calls")
    retried = http.post(f"/v1/pushes/{failed[0]['id']}/retry", headers=AUTH)
    assert (retried.status_code, retried.json()["status"]) == (200, "pending")
    env.drain()
    assert env.stripe_total("api_calls", ref, JAN) == 9
    assert (
        http.get(f"/v1/pushes?status=sent&customerRef={ref}", headers=AUTH).json()["data"][0]["id"]
        == failed[0]["id"]
    )


def test_a_parked_push_holds_back_newer_changes_of_its_counter(env: Env) -> None:
    ref = _park_for_missing_meter(env)
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "1", "ts": "2026-01-11T00:00:00Z"}
    )
    env.drain()
    assert [r.status for r in env.rows()] == ["failed"]  # nothing skipped, nothing reordered


def test_changing_the_mapping_requeues_its_failed_pushes(env: Env, http: TestClient) -> None:
    ref = _park_for_missing_meter(env)
    env.meter("api_calls")
    put = http.put("/v1/mappings/api_calls", json={"mode": "meter_events"}, headers=AUTH)
    assert put.status_code == 200
    env.drain()
    assert env.stripe_total("api_calls", ref, JAN) == 9


def test_a_failing_push_survives_the_period_close_and_shows(env: Env, http: TestClient) -> None:
    ref = _park_for_missing_meter(env)
    with env.store.unit_of_work("default") as uow:
        close_period(uow, ref, "api_calls", NOW, NOW, reason="invoice")
        uow.commit()
    env.drain()
    assert [r.status for r in env.rows()] == ["failed"]
    metrics = http.get("/metrics").text
    assert "stripemeter_push_failed 1.0" in metrics
    ready = http.get("/health/ready").json()
    assert (ready["status"], ready["degraded"], ready["pushes"]["failed"]) == (
        "degraded",
        ["pushes_failed"],
        1,
    )


def test_retry_of_another_tenants_push_is_404(env: Env, http: TestClient) -> None:
    _park_for_missing_meter(env)
    with env.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=NOW)
        other = issue_key(uow, "other", frozenset({"admin"}), label=None, now=NOW).secret
        uow.commit()
    push_id = env.rows()[0].push_id
    response = http.post(
        f"/v1/pushes/{push_id}/retry", headers={"Authorization": f"Bearer {other}"}
    )
    assert (response.status_code, response.json()["code"]) == (404, "push_not_found")
    listed = http.get("/v1/pushes", headers={"Authorization": f"Bearer {other}"}).json()
    assert listed["data"] == []


def test_pushes_page_with_a_keyset_cursor_and_refuse_a_bad_one(env: Env, http: TestClient) -> None:
    env.metric("api_calls", "sum")
    refs = [env.customer(f"C{i}") for i in range(3)]
    env.ingest(
        *[{"metric": "api_calls", "customerRef": r, "ts": "2026-01-10T00:00:00Z"} for r in refs]
    )
    env.drain()
    first = http.get("/v1/pushes", params={"limit": 2}, headers=AUTH).json()
    second = http.get(
        "/v1/pushes", params={"limit": 2, "cursor": first["nextCursor"]}, headers=AUTH
    ).json()
    ids = [p["id"] for p in first["data"] + second["data"]]
    assert (len(ids), len(set(ids)), second["nextCursor"]) == (3, 3, None)
    bad = http.get("/v1/pushes", params={"cursor": "nope"}, headers=AUTH)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "cursor")
    wrong = http.get("/v1/pushes", params={"status": "lost"}, headers=AUTH)
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "status")


def test_a_parked_push_is_logged_as_an_error_naming_stripes_reason(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="stripemeter_server.service.stripe_sync.sender"):
        _park_for_missing_meter(env)
    assert [r.levelname for r in caplog.records if "no_meter" in r.getMessage()] == ["ERROR"]


def test_ready_says_ok_while_no_push_is_parked(env: Env, http: TestClient) -> None:
    ready = http.get("/health/ready").json()
    assert (ready["status"], ready["degraded"]) == ("ok", [])
