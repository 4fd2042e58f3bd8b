"""``POST /v1/events/ingest`` ahead of the middleware stack (ADR 0886) answers exactly as the
full stack does: the same status, headers and body bytes, the same log line and metric."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from stripemeter_server.api.hot_ingest import StripemeterApp
from stripemeter_server.api.logs import ACCESS_LOGGER
from tests.integration.api.conftest import Api

INGEST = "/v1/events/ingest"
EVENT = {"metric": "api_calls", "customerRef": "cus_1", "ts": "2025-01-16T14:00:00Z"}
LIMIT = 1024 * 1024

# (name, body, extra headers, query string); every one is refused before anything is stored
REFUSED: list[tuple[str, bytes, dict[str, str], str]] = [
    ("invalid_json", b'{"events": [', {}, ""),
    ("not_a_batch", b'{"events": {}}', {}, ""),
    ("empty", b'{"events": []}', {}, ""),
    ("no_key", json.dumps({"events": [EVENT]}).encode(), {"Authorization": ""}, ""),
    ("bad_key", json.dumps({"events": [EVENT]}).encode(), {"Authorization": "Bearer smk_x"}, ""),
    ("tenant", json.dumps({"events": [{**EVENT, "tenantId": "other"}]}).encode(), {}, ""),
    ("escapes", json.dumps({"events": [EVENT]}).encode(), {}, "x=%FF%FE"),
    ("too_large", b'{"events": [' + b" " * LIMIT + b"]}", {}, ""),
    ("declared_too_large", b"{}", {"Content-Length": str(LIMIT + 1)}, ""),
]


def _app(api: Api) -> StripemeterApp:
    app = api.client.app
    assert isinstance(app, StripemeterApp) and app.hot is not None
    return app


def _send(api: Api, body: bytes, headers: dict[str, str], query: str, rid: str) -> Response:
    sent = {**api.headers(), "Content-Type": "application/json", "X-Request-Id": rid, **headers}
    return api.client.post(INGEST + (f"?{query}" if query else ""), content=body, headers=sent)


def _both(api: Api, body: bytes, headers: dict[str, str], query: str) -> list[Response]:
    """The request through the hot path, then through the full stack (same request id)."""
    app, answers = _app(api), []
    hot = app.hot
    try:
        for serve in (hot, None):
            app.hot = serve
            answers.append(_send(api, body, headers, query, "req_same_id"))
    finally:
        app.hot = hot
    return answers


@pytest.mark.parametrize(("name", "body", "headers", "query"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refusals_are_byte_for_byte_the_full_stacks(
    api: Api, name: str, body: bytes, headers: dict[str, str], query: str
) -> None:
    hot, full = _both(api, body, headers, query)
    assert hot.status_code == full.status_code >= 400, (name, hot.text)
    assert hot.headers.raw == full.headers.raw
    assert hot.content == full.content
    assert api.get("/v1/events").json()["data"] == []


def test_an_accepted_event_is_answered_as_the_full_stack_answers(api: Api) -> None:
    answers = []
    app = _app(api)
    hot = app.hot
    for serve, key in ((hot, "k_hot1"), (None, "k_full")):
        app.hot = serve
        body = json.dumps({"events": [{**EVENT, "idempotencyKey": key}]}).encode()
        answers.append(_send(api, body, {}, "", "req_same_id"))
    app.hot = hot
    first, second = answers
    assert first.status_code == second.status_code == 200
    assert first.headers.raw == second.headers.raw
    assert first.content.replace(b"k_hot1", b"k_full") == second.content
    assert json.loads(first.content)["accepted"] == 1
    usage = api.get("/v1/usage/current", customerRef="cus_1", metric="api_calls").json()
    assert usage["metrics"][0]["value"] == "2"


def test_the_log_line_and_the_latency_metric_are_the_full_stacks(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[list[tuple[Any, ...]]] = []
    app = _app(api)
    hot = app.hot
    for serve in (hot, None):
        app.hot = serve
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
            _send(api, json.dumps({"events": [EVENT]}).encode(), {}, "", "req_logged")
            _send(api, b"{}", {"Content-Length": str(LIMIT + 1)}, "", "req_big")
        lines.append(
            [
                (r.getMessage(), r.requestId, r.tenant, r.route, r.status)  # type: ignore[attr-defined]
                for r in caplog.records
                if r.name == ACCESS_LOGGER
            ]
        )
    app.hot = hot
    assert (
        lines[0]
        == lines[1]
        == [
            ("POST /v1/events/ingest 200", "req_logged", "default", INGEST, 200),
            ("POST unmatched 413", "req_big", None, "unmatched", 413),
        ]
    )
    telemetry = api.client.app.state.stripemeter.telemetry  # type: ignore[attr-defined]
    count = telemetry.registry.get_sample_value(
        "stripemeter_http_request_seconds_count",
        {"route": INGEST, "method": "POST", "status": "200"},
    )
    assert count == 2


def test_other_methods_and_paths_take_the_full_stack(api: Api) -> None:
    assert api.client.get(INGEST, headers=api.headers()).status_code == 405
    assert isinstance(api.client, TestClient)
    trailing = api.client.post(
        INGEST + "/", json={"events": [EVENT]}, headers=api.headers(), follow_redirects=False
    )
    assert (trailing.status_code, trailing.headers["location"]) == (
        307,
        f"http://testserver{INGEST}",
    )


def test_a_replay_is_answered_as_the_full_stack_answers(api: Api) -> None:
    body = json.dumps({"events": [{**EVENT, "idempotencyKey": "k_replayed"}]}).encode()
    stored = _send(api, body, {}, "", "req_first")
    hot, full = _both(api, body, {}, "")
    assert stored.json()["accepted"] == 1
    assert hot.status_code == full.status_code == 200
    assert hot.headers.raw == full.headers.raw
    assert hot.content == full.content
    assert json.loads(hot.content)["duplicates"] == 1
    assert hot.headers["x-request-id"] == "req_same_id"
    assert len(api.get("/v1/events").json()["data"]) == 1


def test_an_unhandled_error_is_the_full_stacks_plain_500_and_raised_again(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a handler for the error, the answer is ``ServerErrorMiddleware``'s (ADR 0975:
    built only on an error on the hot path), the log line says 500, and the error reaches
    the server (the test client raises it)."""
    app = _app(api)
    committer = app.state.stripemeter.committer

    def broken(*_: object) -> None:
        raise RuntimeError("the committer broke")

    monkeypatch.setattr(committer, "submit_async", broken)
    body = json.dumps({"events": [EVENT]}).encode()
    sent = {**api.headers(), "Content-Type": "application/json", "X-Request-Id": "req_broken"}
    with pytest.raises(RuntimeError, match="the committer broke"):
        api.client.post(INGEST, content=body, headers=sent)
    answers, lines = [], []
    hot = app.hot
    quiet = TestClient(app, raise_server_exceptions=False)
    try:
        for serve in (hot, None):
            app.hot = serve
            caplog.clear()
            with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
                answers.append(quiet.post(INGEST, content=body, headers=sent))
            lines.append([r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER])
    finally:
        app.hot = hot
    first, second = answers
    assert first.status_code == second.status_code == 500
    assert first.headers.raw == second.headers.raw
    assert first.content == second.content == b"Internal Server Error"
    assert lines == [["POST /v1/events/ingest 500"]] * 2
