"""POST /v1/events/ingest: the full contract through the real app."""

from __future__ import annotations

from tests.integration.api.conftest import Api

EVENT = {
    "metric": "api_calls",
    "customerRef": "cus_ABC123",
    "quantity": "100",
    "ts": "2025-01-16T14:00:00Z",
}


def test_a_batch_reports_each_event(api: Api) -> None:
    body = api.post("/v1/events/ingest", {"events": [EVENT, {**EVENT, "quantity": "x"}]}).json()
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (1, 1, 0)
    assert body["results"][1]["error"] == {
        "code": "invalid_quantity",
        "field": "quantity",
        "message": "quantity must be a decimal number, got 'x'",
    }


def test_a_retry_is_a_duplicate(api: Api) -> None:
    api.post("/v1/events/ingest", {"events": [EVENT]})
    body = api.post("/v1/events/ingest", {"events": [EVENT]}).json()
    assert body["results"][0]["status"] == "duplicate"


def test_json_numbers_are_read_as_exact_decimals(api: Api) -> None:
    raw = (
        '{"events": [{"metric": "m", "customerRef": "c", "quantity": 0.1, '
        '"ts": "2025-01-16T14:00:00Z", "idempotencyKey": "a"}, {"metric": "m", '
        '"customerRef": "c", "quantity": 0.2, "ts": "2025-01-16T14:00:00Z", '
        '"idempotencyKey": "b"}]}'
    )
    api.client.post(
        "/v1/events/ingest",
        content=raw,
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    usage = api.get("/v1/usage/current", customerRef="c").json()
    assert usage["metrics"][0]["value"] == "0.3"


def test_the_derived_key_matches_the_shared_rule(api: Api) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from stripemeter_server.domain.idempotency import derive_idempotency_key

    body = api.post("/v1/events/ingest", {"events": [EVENT]}).json()
    expected = derive_idempotency_key(
        tenant_id="default",
        metric="api_calls",
        customer_ref="cus_ABC123",
        resource_id=None,
        ts=datetime(2025, 1, 16, 14, tzinfo=UTC),
        quantity=Decimal(100),
        meta=None,
    )
    assert body["results"][0]["idempotencyKey"] == expected


def test_a_body_that_is_not_a_batch_is_422_with_a_problem(api: Api) -> None:
    response = api.post("/v1/events/ingest", {"event": EVENT})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "events"


def test_invalid_json_is_422(api: Api) -> None:
    response = api.client.post(
        "/v1/events/ingest",
        content=b"{nope",
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_json")


def test_more_than_1000_events_is_413(api: Api) -> None:
    response = api.post("/v1/events/ingest", {"events": [EVENT] * 1001})
    assert (response.status_code, response.json()["code"]) == (413, "batch_too_large")


def test_a_body_over_1_mib_is_413(api: Api) -> None:
    big = {
        "events": [
            {**EVENT, "meta": {"pad": "x" * 3000}, "idempotencyKey": str(i)} for i in range(400)
        ]
    }
    assert api.post("/v1/events/ingest", big).status_code == 413


def test_meta_over_4_kib_is_rejected_per_event(api: Api) -> None:
    body = api.post("/v1/events/ingest", {"events": [{**EVENT, "meta": {"p": "x" * 5000}}]}).json()
    assert body["results"][0]["error"]["code"] == "meta_too_large"


def test_a_timestamp_more_than_five_minutes_ahead_is_rejected(api: Api) -> None:
    body = api.post(
        "/v1/events/ingest", {"events": [{**EVENT, "ts": "2025-01-16T14:36:00Z"}]}
    ).json()
    assert body["results"][0]["error"]["code"] == "timestamp_in_future"


def test_a_long_customer_ref_is_rejected(api: Api) -> None:
    body = api.post("/v1/events/ingest", {"events": [{**EVENT, "customerRef": "c" * 256}]}).json()
    assert body["results"][0]["error"] == {
        "code": "field_too_long",
        "field": "customerRef",
        "message": "customerRef is 256 characters long; at most 255 allowed",
    }


def test_another_tenants_id_in_the_body_is_403(api: Api) -> None:
    response = api.post("/v1/events/ingest", {"events": [{**EVENT, "tenantId": "other"}]})
    assert (response.status_code, response.json()["code"]) == (403, "tenant_mismatch")


def test_a_missing_key_is_401(api: Api) -> None:
    response = api.client.post("/v1/events/ingest", json={"events": [EVENT]})
    assert response.status_code == 401


def test_a_read_only_key_cannot_ingest(api: Api) -> None:
    reader = api.new_key({"read"})
    assert api.post("/v1/events/ingest", {"events": [EVENT]}, key=reader).status_code == 403


def test_keys_decide_the_tenant(api: Api) -> None:
    other = api.new_key({"ingest", "read"}, tenant="other")
    api.post("/v1/events/ingest", {"events": [EVENT]}, key=other)
    mine = api.get("/v1/usage/current", customerRef="cus_ABC123").json()
    theirs = api.get("/v1/usage/current", key=other, customerRef="cus_ABC123").json()
    assert (mine["metrics"], theirs["metrics"][0]["value"]) == ([], "100")


def test_events_list_pages_with_a_cursor(api: Api) -> None:
    api.post(
        "/v1/events/ingest", {"events": [{**EVENT, "idempotencyKey": f"k{i}"} for i in range(5)]}
    )
    first = api.get("/v1/events", limit=3).json()
    second = api.get("/v1/events", limit=3, cursor=first["nextCursor"]).json()
    keys = [e["idempotencyKey"] for e in first["data"] + second["data"]]
    assert sorted(keys) == [f"k{i}" for i in range(5)] and second["nextCursor"] is None
