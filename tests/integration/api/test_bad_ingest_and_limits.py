"""Bad events are rejected one by one with their own codes while the rest of the batch is
stored; every body has a size limit and every stored string a length limit (ADR 0006)."""

from __future__ import annotations

import json

from tests.integration.api.conftest import Api

GOOD = {"metric": "api_calls", "customerRef": "cus_1", "ts": "2025-01-16T14:00:00Z"}

# (event JSON text, expected code, expected field)
BAD_EVENTS: list[tuple[str, str, str]] = [
    (json.dumps({**GOOD, "quantity": "1e80"}), "invalid_quantity", "quantity"),
    (json.dumps(GOOD)[:-1] + ', "quantity": 1e100}', "invalid_quantity", "quantity"),
    (json.dumps(GOOD)[:-1] + ', "quantity": 1e400}', "invalid_quantity", "quantity"),
    (json.dumps({**GOOD, "quantity": "1e400"}), "invalid_quantity", "quantity"),
    (json.dumps({**GOOD, "customerRef": "x\ud800"}), "invalid_field", "customerRef"),
    (json.dumps({**GOOD, "metric": "x\ud800"}), "invalid_field", "metric"),
    (json.dumps({**GOOD, "idempotencyKey": "x\ud800"}), "invalid_field", "idempotencyKey"),
    (json.dumps({**GOOD, "meta": {"a": "x\ud800"}}), "invalid_meta", "meta.a"),
    (json.dumps({**GOOD, "meta": {"x\ud800": 1}}), "invalid_meta", "meta.x\\ud800"),
    (json.dumps({**GOOD, "customerRef": "a\x00b"}), "invalid_field", "customerRef"),
    (json.dumps({**GOOD, "meta": {"a": "a\x00b"}}), "invalid_meta", "meta.a"),
    (json.dumps({**GOOD, "ts": "9999-12-31T00:00:00Z"}), "invalid_timestamp", "ts"),
    (json.dumps({**GOOD, "ts": "0001-01-01T00:00:00Z"}), "invalid_timestamp", "ts"),
    (json.dumps({**GOOD, "customerRef": "c" * 256}), "field_too_long", "customerRef"),
    (json.dumps(GOOD)[:-1] + ', "meta": {"v": 1e999}}', "invalid_meta", "meta"),
]


def test_bad_events_are_rejected_and_the_rest_of_the_batch_is_stored(api: Api) -> None:
    good = [json.dumps({**GOOD, "quantity": str(n), "idempotencyKey": f"k{n}"}) for n in (1, 2)]
    events = [good[0], *(text for text, _, _ in BAD_EVENTS), good[1]]
    response = api.client.post(
        "/v1/events/ingest",
        content='{"events": [' + ", ".join(events) + "]}",
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, len(BAD_EVENTS))
    for item, (_, code, field) in zip(result["results"][1:-1], BAD_EVENTS, strict=True):
        assert item["status"] == "rejected"
        assert (item["error"]["code"], item["error"]["field"]) == (code, field), item
    usage = api.get("/v1/usage/current", customerRef="cus_1", metric="api_calls").json()
    assert usage["metrics"][0]["value"] == "3"


def test_a_20_mib_note_is_refused_before_it_is_stored(api: Api) -> None:
    note = "n" * (20 * 1024 * 1024)
    response = api.post(
        "/v1/adjustments",
        {"metric": "api_calls", "customerRef": "cus_1", "delta": "1", "reason": "x", "note": note},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    assert api.get("/v1/adjustments").json()["data"] == []


def test_a_2_mib_customer_body_is_refused(api: Api) -> None:
    response = api.client.put(
        "/v1/customers/cus_1",
        content=json.dumps({"stripeCustomerId": "cus_x", "pad": "p" * (2 * 1024 * 1024)}),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


def test_a_declared_length_over_the_limit_is_refused_without_reading(api: Api) -> None:
    response = api.client.post(
        "/v1/metrics",
        content=b"{}",
        headers={
            **api.headers(),
            "Content-Type": "application/json",
            "Content-Length": str(50 * 1024 * 1024),
        },
    )
    assert response.status_code == 413


def test_a_long_but_allowed_note_is_kept_whole(api: Api) -> None:
    api.post("/v1/metrics", {"code": "api_calls"})
    note = "n" * 4096
    response = api.post(
        "/v1/adjustments",
        {"metric": "api_calls", "customerRef": "cus_1", "delta": "1", "reason": "x", "note": note},
    )
    assert response.status_code == 201, response.text
    assert response.json()["note"] == note


def test_the_widest_allowed_range_of_periods_is_refused_without_building_it(api: Api) -> None:
    api.post("/v1/metrics", {"code": "hourly", "period": {"type": "hour"}})
    response = api.get(
        "/v1/usage/periods",
        customerRef="cus_1",
        metric="hourly",
        **{"from": "1000-01-01T00:00:00Z", "to": "8999-12-31T23:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "range_too_large"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(api: Api) -> None:
    response = api.client.get("/health/live", headers={"X-Request-ID": "bad id\x01"})
    assert response.headers["x-request-id"].startswith("req_")
    response = api.client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
