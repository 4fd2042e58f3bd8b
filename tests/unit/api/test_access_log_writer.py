"""The access log's writer never holds up the event loop (ADR 0977): a request line is
queued while the writer formats and writes a batch."""

from __future__ import annotations

import io
import json
import logging
import threading

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
