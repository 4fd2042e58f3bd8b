"""The request log lines written by a thread of their own, in batches (ADR 0961, 0977).

A request's log line was formatted (JSON, the secret scrubber, a timestamp) and written to
stderr (a ``write`` system call) on the event loop, between one answer and the next. Here
the loop formats the line and appends it to a queue (no lock, no wake-up: appending is
atomic in CPython), and a writer thread, waking every ``INTERVAL_SECONDS`` (or sooner once
``WAKE_AT`` lines wait), writes what has gathered with one ``write``. The lines are the
ones the handler would have written itself, in the same order, with the request's own time.

Why the loop formats (ADR 0977): the writer used to format the batch itself, ~200 records
and 3-4 ms of CPU at 2 000 reads/s, ten times a second, holding the GIL the loop needs and,
worse, the handler's lock — ``logging.Handler.handle`` takes that lock around ``emit``, so a
request that logged its line during a batch stopped the whole event loop until the batch
was written. Those stalls were the slowest one to two per cent of the fast reads. Formatted
on the loop, a line costs its request ~15 µs and delays nobody else; ``handle`` here
queues without the handler's lock, so the loop never waits for the writer's ``write``.

``flush`` (called by ``logging.shutdown`` at exit, and by ``close``) writes whatever waits
first, so a process that ends normally loses no line. A process killed outright loses at
most the last ``INTERVAL_SECONDS`` of request lines; errors and every other logger's lines
are written where they are logged, as before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from typing import TextIO

INTERVAL_SECONDS = 0.1
WAKE_AT = 512  # lines waiting that wake the writer before its interval


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """``logging.StreamHandler`` whose ``emit`` formats and queues: a thread writes (see
    above)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._waiting: deque[str] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._writer: threading.Thread | None = None
        self._pid = 0  # the process that started the writer (a fork starts its own)

    def handle(self, record: logging.LogRecord) -> bool:
        """``Handler.handle`` without the handler's lock: queueing needs none, and the lock
        is the writer's while it writes a batch (see above)."""
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        if self._closed:  # after ``close`` (the process is ending): written right away
            self.acquire()
            try:
                super().emit(record)
            finally:
                self.release()
            return
        try:
            line = self.format(record) + self.terminator
        except Exception:  # logging's own rule: never raise
            self.handleError(record)
            return
        self._waiting.append(line)
        if self._writer is None or self._pid != os.getpid():
            self._start()
        if len(self._waiting) >= WAKE_AT:
            self._wake.set()

    def _start(self) -> None:
        self.acquire()
        try:
            if self._writer is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._writer = threading.Thread(
                target=self._run, name="stripemeter-access-log", daemon=True
            )
            self._writer.start()
        finally:
            self.release()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(INTERVAL_SECONDS)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write every waiting line, in order, with one ``write``."""
        self.acquire()
        try:
            lines = []
            while self._waiting:
                lines.append(self._waiting.popleft())
            if lines and self.stream is not None:
                try:
                    self.stream.write("".join(lines))
                    self.stream.flush()
                except Exception:  # as ``StreamHandler.emit``
                    self.handleError(logging.makeLogRecord({"msg": "access log write"}))
        finally:
            self.release()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()
