"""The request log lines, written by a thread in batches (ADR 0961): the same lines."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from stripemeter_server.api.access_log import BatchedStreamHandler
from stripemeter_server.api.logs import (
    ACCESS_LOGGER,
    JsonFormatter,
    TextFormatter,
    log_config,
    request_line,
)


def _records(count: int) -> list[logging.LogRecord]:
    return [
        logging.makeLogRecord(
            {
                "name": ACCESS_LOGGER,
                "levelno": logging.INFO,
                "levelname": "INFO",
                "msg": "%s %s %s",
                "args": ("GET", f"/v1/r{i}", 200),
                "requestId": f"req_{i}",
                "tenant": "acme",
                "route": f"/v1/r{i}",
                "method": "GET",
                "status": 200,
                "durationMs": 1.5,
            }
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_the_batched_lines_are_the_stream_handlers_in_order(formatter: logging.Formatter) -> None:
    plain, batched = io.StringIO(), io.StringIO()
    direct = logging.StreamHandler(plain)
    queued = BatchedStreamHandler(batched)
    for handler in (direct, queued):
        handler.setFormatter(formatter)
    for record in _records(700):  # more than WAKE_AT
        direct.handle(record)
        queued.handle(record)
    queued.flush()
    assert batched.getvalue() == plain.getvalue()
    queued.close()


def test_close_writes_what_waits_and_later_lines_at_once() -> None:
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(JsonFormatter())
    first, second = _records(2)
    handler.handle(first)
    handler.close()
    handler.handle(second)
    written = [json.loads(line)["requestId"] for line in out.getvalue().splitlines()]
    assert written == ["req_0", "req_1"]


def test_serve_sends_request_lines_to_the_batched_handler_only() -> None:
    config = log_config("json")
    assert config["handlers"]["access"]["()"] is BatchedStreamHandler
    assert config["handlers"]["access"]["formatter"] == "default"
    access = config["loggers"][ACCESS_LOGGER]
    assert access["handlers"] == ["access"] and access["propagate"] is False
    assert config["root"]["handlers"] == ["default"]


def test_a_request_line_carries_the_same_fields_as_before() -> None:
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        request_line("req_abc", "acme", "/v1/usage/current", "GET", 200, 0.0015)
        request_line("req_def", None, "unmatched", "GET", 401, 0.5)
        handler.flush()
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
        handler.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    for line in lines:
        assert line.pop("ts").endswith("Z")
    assert lines == [
        {
            "level": "info",
            "logger": ACCESS_LOGGER,
            "msg": "GET /v1/usage/current 200",
            "requestId": "req_abc",
            "tenant": "acme",
            "route": "/v1/usage/current",
            "method": "GET",
            "status": 200,
            "durationMs": 1.5,
        },
        {
            "level": "info",
            "logger": ACCESS_LOGGER,
            "msg": "GET unmatched 401",
            "requestId": "req_def",
            "tenant": None,
            "route": "unmatched",
            "method": "GET",
            "status": 401,
            "durationMs": 500.0,
        },
    ]


def test_a_secret_in_a_line_is_scrubbed_by_the_writer() -> None:
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(TextFormatter("%(message)s"))
    secret = "smk_live_" + "x" * 30
    handler.handle(logging.makeLogRecord({"msg": f"GET /v1/{secret} 200"}))
    handler.close()
    assert secret not in out.getvalue()
