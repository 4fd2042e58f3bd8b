"""The reconciliation API's contract on both stores: a run answers at once (202) and is
tenant-scoped (another tenant's run is a 404), bad input names its field, the history is
paged, and the gate setting round-trips."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api


def start(api: Api, body: object, key: str | None = None) -> dict[str, Any]:
    response = api.post("/v1/reconciliation/runs", body, key)
    assert response.status_code == 202, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_run_answers_at_once_and_records_why_it_failed(api: Api) -> None:
    run = start(api, {})
    shown = api.get(f"/v1/reconciliation/runs/{run['id']}").json()
    assert (shown["trigger"], shown["status"], shown["error"], shown["lines"]) == (
        "manual",
        "failed",
        "no Stripe account is configured for this tenant",
        [],
    )


def test_another_tenants_run_is_not_found(api: Api) -> None:
    run = start(api, {})
    other = api.new_key({"read", "admin"}, tenant="other")
    assert [
        api.get(f"/v1/reconciliation/runs/{run['id']}{suffix}", other).status_code
        for suffix in ("", ".csv")
    ] == [404, 404]
    assert api.get("/v1/reconciliation/runs", other).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "0999-01-01T00:00:00Z"}, "period"),
        ({"repair": "yes"}, "repair"),
        ({"customerRef": "x" * 256}, "customerRef"),
        ({"metric": "unmapped"}, "metric"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api: Api, body: dict[str, object], field: str) -> None:
    response = api.post("/v1/reconciliation/runs", body)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


def test_the_history_is_paged_newest_first(api: Api) -> None:
    ids = [start(api, {})["id"] for _ in range(3)]
    api.clock.advance(__import__("datetime").timedelta(seconds=1))
    newest = start(api, {})["id"]
    first = api.get("/v1/reconciliation/runs", limit=1).json()
    rest = api.get("/v1/reconciliation/runs", limit=10, cursor=first["nextCursor"]).json()
    assert (first["data"][0]["id"], sorted(r["id"] for r in rest["data"])) == (newest, sorted(ids))


def test_a_read_key_cannot_start_a_run(api: Api) -> None:
    reader = api.new_key({"read"})
    assert api.post("/v1/reconciliation/runs", {}, reader).status_code == 403


def test_the_gate_setting_round_trips_and_refuses_unknown_modes(api: Api) -> None:
    assert api.get("/v1/reconciliation/settings").json() == {"gate": "report", "leadSeconds": 3600}
    api.client.put(
        "/v1/reconciliation/settings",
        json={"gate": "hold", "leadSeconds": 600},
        headers=api.headers(),
    )
    bad = api.client.put(
        "/v1/reconciliation/settings", json={"gate": "block"}, headers=api.headers()
    )
    assert (api.get("/v1/reconciliation/settings").json(), bad.status_code) == (
        {"gate": "hold", "leadSeconds": 600},
        422,
    )


def test_metrics_show_the_latest_run_status(api: Api) -> None:
    start(api, {})
    text = api.client.get("/metrics").text
    assert (
        'stripemeter_reconciliation_last_run_status{status="failed",tenant="default"} 1.0' in text
    )
    assert "stripemeter_reconciliation_held_invoices 0.0" in text
