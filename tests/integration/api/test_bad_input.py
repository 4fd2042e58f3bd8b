"""The inputs that used to answer 500 (issue 11), each now a problem naming the field — on
SQLite and on PostgreSQL, so both stores follow one rule (ADR 0006)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.api.conftest import Api

NINES = "9" * 30
ADJUSTMENT = {"metric": "api_calls", "customerRef": "cus_1", "delta": "1", "reason": "credit"}
CLOSE = {"metric": "api_calls", "customerRef": "cus_1"}
HOURLY = "hourly_calls"
WIDE = {"from": "1000-01-01T00:00:00Z", "to": "8999-12-31T00:00:00Z"}
ALL_TIME = {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"}


def body(base: dict[str, Any], **changes: Any) -> str:
    """JSON text; ``\\ud800`` in a value stays an escaped lone surrogate on the wire."""
    return json.dumps({**base, **changes})


# (id, method, path, query, body text, headers, status, field)
CASES: list[tuple[str, str, str, dict[str, str], str | None, dict[str, str], int, str]] = [
    ("delta 1e80", "POST", "/v1/adjustments", {}, body(ADJUSTMENT, delta="1e80"), {}, 422, "delta"),
    (
        "delta number 1e100",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT).replace('"delta": "1"', '"delta": 1e100'),
        {},
        422,
        "delta",
    ),
    (
        "delta 1e400",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT, delta="1e400"),
        {},
        422,
        "delta",
    ),
    (
        "threshold 1e80",
        "POST",
        "/v1/alerts",
        {},
        body({"type": "quantity", "metric": "api_calls", "threshold": "1e80"}),
        {},
        422,
        "threshold",
    ),
    (
        "price 1e80",
        "PUT",
        "/v1/prices/api_calls",
        {},
        body({"model": "per_unit", "currency": "usd", "unitAmount": "1e80"}),
        {},
        422,
        "unitAmount",
    ),
    (
        "close at 9999-12-31",
        "POST",
        "/v1/periods/close",
        {},
        body(CLOSE, periodStart="9999-12-31T00:00:00Z"),
        {},
        422,
        "periodStart",
    ),
    (
        "adjustment at 9999-12-31",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT, periodStart="9999-12-31T00:00:00Z"),
        {},
        422,
        "periodStart",
    ),
    (
        "periods 0001..9999",
        "GET",
        "/v1/usage/periods",
        {"customerRef": "cus_1", "metric": HOURLY, **ALL_TIME},
        None,
        {},
        422,
        "from",
    ),
    (
        "periods 1000..8999 hourly",
        "GET",
        "/v1/usage/periods",
        {"customerRef": "cus_1", "metric": HOURLY, **WIDE},
        None,
        {},
        422,
        "from",
    ),
    (
        "history by hour 1000..8999",
        "GET",
        "/v1/usage/history",
        {"customerRef": "cus_1", "metric": "api_calls", "step": "hour", **WIDE},
        None,
        {},
        422,
        "step",
    ),
    (
        "history by month 1000..8999",
        "GET",
        "/v1/usage/history",
        {"customerRef": "cus_1", "metric": "api_calls", "step": "month", **WIDE},
        None,
        {},
        422,
        "step",
    ),
    (
        "events from 0001",
        "GET",
        "/v1/events",
        {"from": "0001-01-01T00:00:00Z"},
        None,
        {},
        422,
        "from",
    ),
    (
        "events cursor 30 nines",
        "GET",
        "/v1/events",
        {"cursor": "c" + NINES},
        None,
        {},
        422,
        "cursor",
    ),
    (
        "alert events after 30 nines",
        "GET",
        "/v1/alerts/events",
        {"after": NINES},
        None,
        {},
        422,
        "after",
    ),
    (
        "deliveries of 30 nines",
        "GET",
        f"/v1/alerts/events/{NINES}/deliveries",
        {},
        None,
        {},
        404,
        "id",
    ),
    (
        "deliveries of superscript one",
        "GET",
        "/v1/alerts/events/%C2%B9/deliveries",
        {},
        None,
        {},
        404,
        "id",
    ),
    (
        "stream lastEventId 30 nines",
        "GET",
        "/v1/alerts/stream",
        {"once": "true", "lastEventId": NINES},
        None,
        {},
        422,
        "lastEventId",
    ),
    (
        "stream Last-Event-ID 30 nines",
        "GET",
        "/v1/alerts/stream",
        {"once": "true"},
        None,
        {"Last-Event-ID": NINES},
        422,
        "Last-Event-ID",
    ),
    ("NUL in metric path", "GET", "/v1/metrics/a%00b", {}, None, {}, 422, "code"),
    ("NUL in customer path", "GET", "/v1/customers/a%00b", {}, None, {}, 422, "customer_ref"),
    ("NUL in void key", "POST", "/v1/events/a%00b/void", {}, None, {}, 422, "key"),
    (
        "NUL in usage query",
        "GET",
        "/v1/usage/current",
        {"customerRef": "a\x00b"},
        None,
        {},
        422,
        "customerRef",
    ),
    (
        "NUL in events query",
        "GET",
        "/v1/events",
        {"customerRef": "a\x00b"},
        None,
        {},
        422,
        "customerRef",
    ),
    (
        "NUL in note",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT, note="a\x00b"),
        {},
        422,
        "note",
    ),
    ("NUL in metric code", "POST", "/v1/metrics", {}, body({"code": "a\x00b"}), {}, 422, "code"),
    (
        "NUL in stripeCustomerId",
        "PUT",
        "/v1/customers/cus_1",
        {},
        body({"stripeCustomerId": "cus\x00"}),
        {},
        422,
        "stripeCustomerId",
    ),
    (
        "surrogate in stripeCustomerId",
        "PUT",
        "/v1/customers/cus_1",
        {},
        body({"stripeCustomerId": "x\ud800"}),
        {},
        422,
        "stripeCustomerId",
    ),
    (
        "surrogate in metric code",
        "POST",
        "/v1/metrics",
        {},
        body({"code": "x\ud800"}),
        {},
        422,
        "code",
    ),
    (
        "surrogate in adjustment metric",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT, metric="x\udfff"),
        {},
        422,
        "metric",
    ),
    (
        "surrogate in a key",
        "POST",
        "/v1/alerts",
        {},
        body({"type": "quantity", "metric": "m", "threshold": "1", "x\ud800": 1}),
        {},
        422,
        "x\\ud800",
    ),
    (
        "note of 5000 characters",
        "POST",
        "/v1/adjustments",
        {},
        body(ADJUSTMENT, note="n" * 5000),
        {},
        422,
        "note",
    ),
    (
        "label of 300 characters",
        "POST",
        "/v1/admin/api-keys",
        {},
        body({"scopes": ["read"], "label": "l" * 300}),
        {},
        422,
        "label",
    ),
    (
        "secret of 300 characters",
        "POST",
        "/v1/alerts",
        {},
        body(
            {
                "type": "quantity",
                "metric": "m",
                "threshold": "1",
                "webhookUrl": "https://example.com/h",
                "secret": "s" * 300,
            }
        ),
        {},
        422,
        "secret",
    ),
    (
        "lateness of 99999 days",
        "POST",
        "/v1/metrics",
        {},
        body({"code": "late", "latenessWindow": "P99999D"}),
        {},
        422,
        "latenessWindow",
    ),
    (
        "customerRef of 256 characters",
        "GET",
        "/v1/usage/current",
        {"customerRef": "c" * 256},
        None,
        {},
        422,
        "customerRef",
    ),
]


@pytest.fixture
def seeded(api: Api) -> Api:
    for code, period in (("api_calls", "month"), (HOURLY, "hour")):
        created = api.post("/v1/metrics", {"code": code, "period": {"type": period}})
        assert created.status_code in (200, 201), created.text
    return api


@pytest.mark.parametrize(
    ("method", "path", "query", "text", "headers", "status", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_problem_naming_the_field(
    seeded: Api,
    method: str,
    path: str,
    query: dict[str, str],
    text: str | None,
    headers: dict[str, str],
    status: int,
    field: str,
) -> None:
    response = seeded.client.request(
        method,
        path,
        params=query,
        content=text,
        headers={**seeded.headers(), "Content-Type": "application/json", **headers},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    fields = [e.get("field") for e in problem.get("errors", [])]
    assert field in fields, problem


def test_a_good_request_still_works_after_the_bad_ones(seeded: Api) -> None:
    created = seeded.post("/v1/adjustments", {**ADJUSTMENT, "note": "fine"})
    assert created.status_code == 201, created.text
    assert created.json()["note"] == "fine"
