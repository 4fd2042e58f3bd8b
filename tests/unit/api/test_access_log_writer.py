"""The access log's writer never holds up the event loop (ADR 0977): a request line is
queued while the writer writes a batch, and the writer formats in slices."""

from __future__ import annotations

import io
import json
import logging
import threading

import pytest

from stripemeter_server.api import access_log
from stripemeter_server.api.access_log import BatchedStreamHandler
from stripemeter_server.api.logs import ACCESS_LOGGER, JsonFormatter


def _record(i: int) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": ACCESS_LOGGER,
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "%s %s %s",
            "args": ("GET", "/v1/usage/current", 200),
            "requestId": f"req_{i}",
        }
    )


class _HeldStream(io.StringIO):
    """A stream whose ``write`` waits until released: the writer holds its batch there."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.released = threading.Event()
        self.writing = False

    def write(self, text: str) -> int:
        self.writing = True
        self.entered.set()
        self.released.wait(5)
        self.writing = False
        return super().write(text)


def _ids(text: str) -> list[str]:
    return [json.loads(line)["requestId"] for line in text.splitlines()]


def test_a_line_is_queued_while_the_writer_writes_a_batch() -> None:
    stream = _HeldStream()
    handler = BatchedStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.handle(_record(0))  # starts the writer, which takes it within its interval
    assert stream.entered.wait(5)
    handler.handle(_record(1))  # the loop's call: it must not wait for the batch's lock
    assert stream.writing, "handle waited for the writer's batch"
    stream.released.set()
    handler.close()
    assert _ids(stream.getvalue()) == ["req_0", "req_1"]


def test_the_writer_pauses_between_slices_and_keeps_the_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(access_log.time, "sleep", pauses.append)
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(JsonFormatter())
    count = 2 * access_log.SLICE + 3
    for i in range(count):
        handler._waiting.append(_record(i))  # as ``emit`` queues, without the writer
    handler._write_waiting(pause=True)
    assert pauses == [access_log.PAUSE_SECONDS] * 2
    assert _ids(out.getvalue()) == [f"req_{i}" for i in range(count)]


def test_flush_writes_everything_at_once_without_pausing(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(access_log.time, "sleep", pauses.append)
    out = io.StringIO()
    handler = BatchedStreamHandler(out)
    handler.setFormatter(JsonFormatter())
    for i in range(3 * access_log.SLICE):
        handler._waiting.append(_record(i))
    handler.flush()
    assert pauses == []
    assert len(_ids(out.getvalue())) == 3 * access_log.SLICE
