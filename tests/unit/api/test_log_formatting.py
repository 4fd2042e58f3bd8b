"""The log line's cheaper formatting (ADR 0975) writes what the expressions and ``strftime``
wrote: ``scrub`` skips its expressions only for text none of them can match, a line's time
is formatted once per second, and queuing a request line never waits for the handler's
lock, which the writer holds while it formats a batch."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api import logs
from stripemeter_server.api.access_log import BatchedStreamHandler
from stripemeter_server.api.logs import JsonFormatter, scrub
from stripemeter_server.storage.engine import masked_url

# Text near the patterns: their characters, their words, URLs with users and queries
PIECES = st.sampled_from(
    ["smk_", "smp_", "sk_", "rk_", "live_", "test_", "whsec_", "Bearer", "bEaReR", " ", "\t",
     "//", "@", ":", "/", "?", "&", "=", "password", "sslPassword", "#", "abc", "XYZ09", "-",
     ".", "+", "POST", "/v1/events/ingest", "200", "unmatched"]
)  # fmt: skip
TEXTS = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=60))


def _scrubbed_by_the_expressions(text: str) -> str:
    def mask(match: object) -> str:
        found: str = match.group(0)  # type: ignore[attr-defined]
        return "Bearer ***" if found.lower().startswith("bearer") else found[:8] + "***"

    return logs._SECRETS.sub(mask, masked_url(text))


@given(TEXTS)
def test_scrub_is_the_three_expressions_on_any_text(text: str) -> None:
    assert scrub(text) == _scrubbed_by_the_expressions(text)


def test_a_request_lines_message_is_left_as_it_is_and_a_key_is_still_masked() -> None:
    assert scrub("POST /v1/events/ingest 200") == "POST /v1/events/ingest 200"
    assert scrub("GET /v1/smk_live_abcdefgh 200") == "GET /v1/smk_live*** 200"


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_the_time_of_a_line_is_strftimes(created: float) -> None:
    expected = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert logs._timestamp(created) == expected


def test_times_within_a_second_and_across_its_end_are_strftimes() -> None:
    for created in (1_800_000_000.25, 1_800_000_000.999_999_6, 1_800_000_000.5, 1_799_999_999.9):
        expected = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        record = logging.makeLogRecord({"msg": "x", "created": created})
        assert JsonFormatter().format(record).startswith(f'{{"ts":"{expected}"')


def test_a_request_line_is_queued_while_another_thread_holds_the_handlers_lock() -> None:
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(logging.makeLogRecord({"msg": "first"}))  # its writer thread started
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        handler.acquire()
        held.set()
        release.wait()
        handler.release()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    queued = threading.Thread(target=handler.handle, args=(logging.makeLogRecord({"msg": "a"}),))
    queued.start()
    queued.join(timeout=30)  # with the lock taken by ``handle`` it would wait for ``release``
    finished = not queued.is_alive()
    release.set()
    holder.join()
    queued.join()
    handler.close()
    assert finished
    assert out.getvalue() == "first\na\n"


FIELD_VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@given(
    st.text(max_size=40),
    st.one_of(st.none(), st.text(max_size=20)),
    st.text(max_size=30),
    st.text(max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=4_102_444_800),
)
def test_a_request_lines_json_is_json_dumps_of_its_fields(
    rid: str, tenant: str | None, route: str, method: str, status: int, ms: float, created: float
) -> None:
    """ADR 0982: the request line's own encoding writes what ``json.dumps`` of the dict
    writes, for any text (non-ASCII, quotes, control characters), status and duration."""
    fields = {"requestId": rid, "tenant": tenant, "route": route, "method": method}
    record = logging.makeLogRecord(
        {"name": logs.ACCESS_LOGGER, "msg": "%s %s %s", "args": (method, route, status)}
    )
    record.__dict__.update(fields, created=created, status=status, durationMs=ms)
    formatter = JsonFormatter()
    assert formatter.format(record) == logs._any_json(formatter, record)


@given(st.lists(st.sampled_from(logs._FIELDS), unique=True), FIELD_VALUES, st.booleans())
def test_any_other_record_is_formatted_as_before(
    names: list[str], value: object, with_error: bool
) -> None:
    """A record missing a request line's field, holding one of another type or an
    exception is formatted by the generic path, which ``_request_json`` declines."""
    record = logging.makeLogRecord({"msg": "x", **dict.fromkeys(names, value)})
    if with_error:
        try:
            raise ValueError("boom")
        except ValueError:
            record.exc_info = sys.exc_info()
    formatter = JsonFormatter()
    line = formatter.format(record)
    assert line == logs._any_json(formatter, record)
    assert json.loads(line)["msg"] == "x"


def test_a_request_line_carries_every_field_the_generic_path_writes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A field added to ``_FIELDS`` (and to ``request_line``) must reach the line: the
    request line's own encoding (ADR 0982) would otherwise drop it silently."""
    with caplog.at_level(logging.INFO, logger=logs.ACCESS_LOGGER):
        logs.request_line("req_1", None, "/v1/usage/current", "GET", 200, 0.0012)
    (record,) = [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    line = json.loads(JsonFormatter().format(record))
    assert list(line) == ["ts", "level", "logger", "msg", *logs._FIELDS]
    assert line["msg"] == "GET /v1/usage/current 200" and line["durationMs"] == 1.2
