"""The entitlement ``POST``s ahead of the middleware stack (ADR 0960) answer exactly as the
full stack does: the same status, headers and body bytes, the same log line and metric —
for answers, refusals (the body limit's 413 included) and bodies the fast handler declines
to FastAPI."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from httpx2 import Response

from stripemeter_server.api.hot_ingest import StripemeterApp
from stripemeter_server.api.logs import ACCESS_LOGGER
from tests.integration.api.conftest import Api

CHECK = "/v1/entitlements/check"
RESERVE = "/v1/entitlements/reservations"
LIMIT = 1024 * 1024  # the default body limit
ASK = {"customerRef": "cus_1", "feature": "tokens", "quantity": "5"}
OVER = json.dumps({**ASK, "quantity": "500", "idempotencyKey": "r"}).encode()

# (name, path, body, extra headers, query string); none of them writes anything
CASES: list[tuple[str, str, bytes, dict[str, str], str]] = [
    ("allowed", CHECK, json.dumps(ASK).encode(), {}, ""),
    ("over", CHECK, json.dumps({**ASK, "quantity": "500"}).encode(), {}, ""),
    ("no_grant", CHECK, json.dumps({**ASK, "customerRef": "cus_9"}).encode(), {}, ""),
    ("no_feature", CHECK, json.dumps({**ASK, "feature": "none"}).encode(), {}, ""),
    ("bad_quantity", CHECK, json.dumps({**ASK, "quantity": "x"}).encode(), {}, ""),
    ("tenant", CHECK, json.dumps({**ASK, "tenantId": "other"}).encode(), {}, ""),
    ("nul", CHECK, json.dumps({**ASK, "customerRef": "a\u0000"}).encode(), {}, ""),
    ("escapes", CHECK, json.dumps(ASK).encode(), {}, "x=%FF%FE"),
    ("no_key", CHECK, json.dumps(ASK).encode(), {"Authorization": ""}, ""),
    ("bad_key", CHECK, json.dumps(ASK).encode(), {"Authorization": "Bearer smk_x"}, ""),
    ("array", CHECK, b"[]", {}, ""),  # declined: FastAPI's 422
    ("invalid_json", CHECK, b'{"customerRef": ', {}, ""),  # declined
    ("empty", CHECK, b"", {}, ""),  # declined
    ("charset", CHECK, json.dumps(ASK).encode(), {"Content-Type": "text/plain"}, ""),
    ("too_large", CHECK, b'{"a": "' + b"x" * LIMIT + b'"}', {}, ""),
    ("declared_too_large", CHECK, b"{}", {"Content-Length": str(LIMIT + 1)}, ""),
    ("over_limit", RESERVE, OVER, {}, ""),
    ("no_idempotency_key", RESERVE, json.dumps(ASK).encode(), {}, ""),
    ("reserve_declined", RESERVE, b"[1]", {}, ""),
    ("reserve_too_large", RESERVE, b"{}", {"Content-Length": str(LIMIT + 1)}, ""),
]


@pytest.fixture
def app(api: Api) -> StripemeterApp:
    app = api.client.app
    assert isinstance(app, StripemeterApp) and app.reads is not None
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/metrics", {"code": "tokens", "aggregation": "sum"}),
        ("PUT", "/v1/features/tokens", {"type": "metered", "metric": "tokens"}),
    ]
    for ref in ("cus_1", "cus_2"):
        path = f"/v1/customers/{ref}/entitlements/tokens"
        calls.append(("PUT", path, {"limit": "100", "enforcement": "hard"}))
    for method, path, body in calls:
        answer = api.client.request(method, path, json=body, headers=api.headers())
        assert answer.status_code in (200, 201), answer.text
    events = [
        {"metric": "tokens", "customerRef": ref, "quantity": "30.5", "idempotencyKey": ref}
        for ref in ("cus_1", "cus_2")
    ]
    assert api.post("/v1/events/ingest", {"events": events}).status_code == 200
    return app


def _send(api: Api, path: str, body: bytes, headers: dict[str, str], query: str) -> Response:
    sent = {
        **api.headers(),
        "Content-Type": "application/json",
        "X-Request-Id": "req_same_id",
        **headers,
    }
    target = path + (f"?{query}" if query else "")
    return api.client.post(target, content=body, headers=sent)


def _both(
    api: Api, app: StripemeterApp, path: str, body: bytes, headers: dict[str, str], query: str
) -> list[Response]:
    """The request through the hot layer, then through the full stack (same request id)."""
    answers, hot = [], app.reads
    try:
        for serve in (hot, None):
            app.reads = serve
            answers.append(_send(api, path, body, headers, query))
    finally:
        app.reads = hot
    return answers


def test_the_hot_layer_takes_both_posts_and_not_the_portals(app: StripemeterApp) -> None:
    assert app.reads is not None
    for path, expected in ((CHECK, True), (RESERVE, True), ("/portal/v1/usage", False)):
        scope = {"type": "http", "method": "POST", "path": path, "headers": []}
        assert app.reads.serves(scope) is expected, path


@pytest.mark.parametrize(
    ("name", "path", "body", "headers", "query"), CASES, ids=[c[0] for c in CASES]
)
def test_answers_are_byte_for_byte_the_full_stacks(
    api: Api,
    app: StripemeterApp,
    name: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    query: str,
) -> None:
    hot, full = _both(api, app, path, body, headers, query)
    assert hot.status_code == full.status_code, (name, hot.text, full.text)
    assert hot.headers.raw == full.headers.raw
    assert hot.content == full.content
    held = api.get("/v1/customers/cus_1/entitlements/tokens").json()
    assert held["balance"] == "69.5"  # nothing was held


def test_a_hold_and_its_repeat_are_answered_as_the_full_stack_answers(
    api: Api, app: StripemeterApp
) -> None:
    hot, created = app.reads, []
    for serve, ref, key in ((hot, "cus_1", "hold_h"), (None, "cus_2", "hold_f")):
        app.reads = serve
        asked = {**ASK, "customerRef": ref, "idempotencyKey": key}
        created.append(_send(api, RESERVE, json.dumps(asked).encode(), {}, ""))
    app.reads = hot
    first, second = created
    assert first.status_code == second.status_code == 201
    assert first.headers.raw == second.headers.raw
    assert _masked(first) == _masked(second)
    repeat = json.dumps({**ASK, "idempotencyKey": "hold_h"}).encode()
    again_hot, again_full = _both(api, app, RESERVE, repeat, {}, "")
    assert again_hot.status_code == again_full.status_code == 200
    assert again_hot.headers.raw == again_full.headers.raw
    assert again_hot.content == again_full.content
    assert again_hot.json()["id"] == first.json()["id"]


def _masked(answer: Response) -> dict[str, Any]:
    body = dict(answer.json())
    for name in ("id", "idempotencyKey", "customerRef"):
        body.pop(name)
    body["entitlement"] = {k: v for k, v in body["entitlement"].items() if k != "customerRef"}
    return body


def test_the_log_line_and_the_latency_metric_are_the_full_stacks(
    api: Api, app: StripemeterApp, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[list[tuple[Any, ...]]] = []
    hot = app.reads
    for serve in (hot, None):
        app.reads = serve
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
            for _, path, body, headers, query in (CASES[0], CASES[10], CASES[15]):
                _send(api, path, body, headers, query)
        lines.append(
            [
                (r.getMessage(), r.requestId, r.tenant, r.route, r.status)  # type: ignore[attr-defined]
                for r in caplog.records
                if r.name == ACCESS_LOGGER
            ]
        )
    app.reads = hot
    assert (
        lines[0]
        == lines[1]
        == [
            (f"POST {CHECK} 200", "req_same_id", "default", CHECK, 200),
            (f"POST {CHECK} 422", "req_same_id", "default", CHECK, 422),
            ("POST unmatched 413", "req_same_id", None, "unmatched", 413),
        ]
    )
    telemetry = api.client.app.state.stripemeter.telemetry  # type: ignore[attr-defined]
    count = telemetry.registry.get_sample_value(
        "stripemeter_http_request_seconds_count",
        {"route": CHECK, "method": "POST", "status": "200"},
    )
    assert count == 2
