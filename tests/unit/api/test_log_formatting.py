"""The log line's cheaper formatting (ADR 0975) writes what the expressions and ``strftime``
wrote: ``scrub`` skips its expressions only for text none of them can match, a line's time
is formatted once per second, and queuing a request line never waits for the handler's
lock, which the writer holds while it formats a batch."""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime

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
