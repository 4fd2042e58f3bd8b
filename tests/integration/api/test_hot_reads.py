"""The fast-path ``GET`` reads ahead of the middleware stack (ADR 0954) answer exactly as the
full stack does: the same status, headers and body bytes, the same log line and metric —
for answers, refusals and requests the fast handler declines to FastAPI."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from starlette.middleware.errors import ServerErrorMiddleware

from stripemeter_server.api.hot_ingest import StripemeterApp
from stripemeter_server.api.logs import ACCESS_LOGGER
from stripemeter_server.api.routes import usage_hot
from tests.integration.api.conftest import Api

SPAN = "from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z"
PATHS = [
    "/v1/usage/current?customerRef=cus_1",
    "/v1/usage/current?customerRef=cus_1&metric=api_calls",
    "/v1/usage/current?customerRef=cus_1&metric=missing",
    "/v1/usage/current?customerRef=cus_1&tenantId=other",
    "/v1/usage/current?customerRef=cus_1&customerRef=cus_2",  # declined: FastAPI's answer
    "/v1/usage/current?metric=api_calls",  # declined: FastAPI's 422
    f"/v1/usage/periods?customerRef=cus_1&metric=api_calls&{SPAN}",
    f"/v1/usage/periods?customerRef=cus_1&metric=api_calls&{SPAN}&limit=1",  # declined
    f"/v1/usage/history?customerRef=cus_1&metric=api_calls&{SPAN}",
    f"/v1/usage/history?customerRef=cus_1&metric=api_calls&{SPAN}&step=hour",
    f"/v1/usage/history?customerRef=cus_1&metric=api_calls&{SPAN}&step=week",
    "/v1/usage/history?customerRef=cus_1&metric=api_calls&from=x&to=y",
    "/v1/customers/cus_1/entitlements/none",
]


@pytest.fixture
def app(api: Api) -> StripemeterApp:
    app = api.client.app
    assert isinstance(app, StripemeterApp) and app.reads is not None
    events = [
        {"metric": "api_calls", "customerRef": "cus_1", "quantity": q, "ts": ts}
        for q, ts in (("1.50", "2025-01-03T10:00:00Z"), ("2", "2025-01-20T00:00:00Z"))
    ]
    assert api.post("/v1/events/ingest", {"events": events}).status_code == 200
    return app


def _both(api: Api, app: StripemeterApp, path: str, headers: dict[str, str]) -> list[Response]:
    """The request through the hot layer, then through the full stack (same request id)."""
    answers, hot = [], app.reads
    try:
        for serve in (hot, None):
            app.reads = serve
            sent = {**api.headers(), "X-Request-Id": "req_same_id", **headers}
            answers.append(api.client.get(path, headers=sent))
    finally:
        app.reads = hot
    return answers


@pytest.mark.parametrize("path", PATHS)
def test_answers_are_byte_for_byte_the_full_stacks(
    api: Api, app: StripemeterApp, path: str
) -> None:
    hot, full = _both(api, app, path, {})
    assert hot.status_code == full.status_code
    assert hot.headers.raw == full.headers.raw
    assert hot.content == full.content


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": ""}, {"Authorization": "Bearer smk_x"}, {"Content-Length": "0"}],
)
def test_refusals_and_empty_bodies_are_the_full_stacks(
    api: Api, app: StripemeterApp, headers: dict[str, str]
) -> None:
    hot, full = _both(api, app, PATHS[0], headers)
    assert hot.status_code == full.status_code
    assert hot.headers.raw == full.headers.raw
    assert hot.content == full.content


def test_the_log_line_and_the_latency_metric_are_the_full_stacks(
    api: Api, app: StripemeterApp, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[list[tuple[Any, ...]]] = []
    hot = app.reads
    for serve in (hot, None):
        app.reads = serve
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
            for path in (PATHS[0], PATHS[5], PATHS[8]):
                api.client.get(path, headers={**api.headers(), "X-Request-Id": "req_logged"})
        lines.append(
            [
                (r.getMessage(), r.requestId, r.tenant, r.route, r.status)  # type: ignore[attr-defined]
                for r in caplog.records
                if r.name == ACCESS_LOGGER
            ]
        )
    app.reads = hot
    assert lines[0] == lines[1]
    assert [line[0] for line in lines[0]] == [
        "GET /v1/usage/current 200",
        "GET /v1/usage/current 422",
        "GET /v1/usage/history 200",
    ]
    telemetry = api.client.app.state.stripemeter.telemetry  # type: ignore[attr-defined]
    count = telemetry.registry.get_sample_value(
        "stripemeter_http_request_seconds_count",
        {"route": "/v1/usage/current", "method": "GET", "status": "200"},
    )
    assert count == 2


def test_an_unhandled_error_is_the_full_stacks_plain_500_and_raised_again(
    api: Api, app: StripemeterApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a handler for the error, the answer is ``ServerErrorMiddleware``'s (ADR 0982:
    built only on an error on the hot path), the log line says 500, and the error reaches
    the server (the test client raises it)."""

    def broken(*_: object) -> bytes:
        raise RuntimeError("the encoder broke")

    monkeypatch.setattr(usage_hot, "encode_struct", broken)
    sent = {**api.headers(), "X-Request-Id": "req_broken"}
    with pytest.raises(RuntimeError, match="the encoder broke"):
        api.client.get(PATHS[0], headers=sent)
    answers, lines = [], []
    hot = app.reads
    quiet = TestClient(app, raise_server_exceptions=False)
    try:
        for serve in (hot, None):
            app.reads = serve
            caplog.clear()
            with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
                answers.append(quiet.get(PATHS[0], headers=sent))
            lines.append([r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER])
    finally:
        app.reads = hot
    first, second = answers
    assert first.status_code == second.status_code == 500
    assert first.headers.raw == second.headers.raw
    assert first.content == second.content == b"Internal Server Error"
    assert lines == [["GET /v1/usage/current 500"]] * 2


def test_a_hot_read_runs_no_error_middleware_per_request(
    api: Api, app: StripemeterApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0982: the hot layer answers an unhandled error itself, so a read that raises none
    passes no ``ServerErrorMiddleware`` (the full stack, for comparison, passes one)."""
    calls: list[str] = []
    original = ServerErrorMiddleware.__call__

    async def counted(self: ServerErrorMiddleware, *args: Any) -> None:
        calls.append(args[0]["path"])
        await original(self, *args)

    monkeypatch.setattr(ServerErrorMiddleware, "__call__", counted)
    hot, full = _both(api, app, PATHS[0], {})
    assert hot.status_code == full.status_code == 200
    assert calls == ["/v1/usage/current"]  # the full stack's request only
