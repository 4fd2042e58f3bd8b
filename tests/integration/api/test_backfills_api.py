"""/v1/backfills and four-eyes approvals through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api


def ingest(api: Api, *events: dict[str, Any]) -> Any:
    return api.post("/v1/events/ingest", {"events": list(events)}).json()


def event(quantity: str, key: str, backfill: str | None = None) -> dict[str, Any]:
    body = {
        "metric": "api_calls",
        "customerRef": "cus_1",
        "quantity": quantity,
        "ts": "2025-01-10T00:00:00Z",
        "idempotencyKey": key,
    }
    return {**body, "backfillId": backfill} if backfill else body


def usage(api: Api) -> Any:
    return api.get("/v1/usage/current", customerRef="cus_1", metric="api_calls").json()


def open_session(api: Api) -> str:
    api.post("/v1/metrics", {"code": "api_calls", "aggregation": "sum"})
    response = api.post("/v1/backfills", {"metric": "api_calls", "note": "2024 re-import"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_reads_name_the_open_session_whose_events_they_leave_out(api: Api) -> None:
    bf = open_session(api)
    assert ingest(api, event("5", "k1", bf))["accepted"] == 1
    body = usage(api)
    assert (body["metrics"][0]["value"], body["heldBackfills"]) == (
        "0",
        [{"id": bf, "metric": "api_calls", "status": "open"}],
    )


def test_closing_a_session_counts_its_events_and_clears_the_notice(api: Api) -> None:
    bf = open_session(api)
    ingest(api, event("5", "k1", bf))
    closed = api.post(f"/v1/backfills/{bf}/close", {}).json()
    assert (closed["status"], closed["events"], closed["counting"]) == ("closed", 1, True)
    body = usage(api)
    assert (body["metrics"][0]["value"], body["heldBackfills"]) == ("5", [])


def test_reverting_a_closed_session_stops_its_events_counting(api: Api) -> None:
    bf = open_session(api)
    ingest(api, event("5", "k1", bf), event("2", "k2"))
    api.post(f"/v1/backfills/{bf}/close", {})
    reverted = api.post(f"/v1/backfills/{bf}/revert", {}).json()
    assert reverted["status"] == "reverted"
    assert usage(api)["metrics"][0]["value"] == "2"


def test_the_event_listing_shows_the_session_of_each_event(api: Api) -> None:
    bf = open_session(api)
    ingest(api, event("5", "k1", bf))
    listed = api.get("/v1/events").json()["data"]
    assert [e["backfillId"] for e in listed] == [bf]


def test_four_eyes_close_needs_a_second_key(api: Api) -> None:
    bf = open_session(api)
    ingest(api, event("5", "k1", bf))
    assert api.client.put(
        "/v1/corrections/policy", json={"fourEyes": True}, headers=api.headers()
    ).json() == {"fourEyes": True}
    assert api.post(f"/v1/backfills/{bf}/close", {}).json()["status"] == "pending"
    assert api.post(f"/v1/backfills/{bf}/approve", {}).status_code == 403
    second = api.new_key({"admin"})
    approved = api.post(f"/v1/backfills/{bf}/approve", {"note": "checked"}, key=second).json()
    assert (approved["status"], approved["approval"]["decision"]) == ("closed", "approved")
    assert usage(api)["metrics"][0]["value"] == "5"


def test_four_eyes_adjustment_counts_after_approval_by_another_key(api: Api) -> None:
    open_session(api)
    ingest(api, event("10", "k1"))
    api.client.put("/v1/corrections/policy", json={"fourEyes": True}, headers=api.headers())
    made = api.post(
        "/v1/adjustments",
        {"metric": "api_calls", "customerRef": "cus_1", "delta": "-4", "reason": "credit"},
    ).json()
    assert (made["status"], usage(api)["metrics"][0]["value"]) == ("pending", "10")
    second = api.new_key({"admin"})
    decided = api.post(f"/v1/adjustments/{made['id']}/approve", {}, key=second).json()
    assert (decided["status"], usage(api)["metrics"][0]["value"]) == ("approved", "6")
    shown = api.get(f"/v1/adjustments/{made['id']}").json()
    assert shown["approval"]["decidedBy"] != shown["actor"]


def test_a_rejected_adjustment_never_counts(api: Api) -> None:
    open_session(api)
    ingest(api, event("10", "k1"))
    api.client.put("/v1/corrections/policy", json={"fourEyes": True}, headers=api.headers())
    made = api.post(
        "/v1/adjustments",
        {"metric": "api_calls", "customerRef": "cus_1", "delta": "-4", "reason": "credit"},
    ).json()
    second = api.new_key({"admin"})
    assert (
        api.post(f"/v1/adjustments/{made['id']}/reject", {}, key=second).json()["status"]
        == "rejected"
    )
    assert usage(api)["metrics"][0]["value"] == "10"


def test_an_unknown_session_is_a_404_problem(api: Api) -> None:
    response = api.post("/v1/backfills/bf_nosuch/close", {})
    assert (response.status_code, response.json()["code"]) == (404, "backfill_not_found")
