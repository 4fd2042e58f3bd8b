"""The request log lines written by a thread of their own, in batches (ADR 0961, 0977).

A request's log line was formatted (JSON, the secret scrubber, a timestamp) and written to
stderr (a ``write`` system call) on the event loop, between one answer and the next: about a
tenth of a fast read's CPU on the loop. Here the loop only appends the record to a list (no
lock, no wake-up: appending is atomic in CPython), and a writer thread, waking every
``INTERVAL_SECONDS`` (or sooner once ``WAKE_AT`` records wait), formats what has gathered
with the handler's own formatter and writes it with one ``write``. The lines are the ones
the handler would have written itself, in the same order; the records keep the time they
were made, so a line's ``ts`` is the request's, not the write's.

The loop never waits for the writer (ADR 0977): ``logging.Handler.handle`` takes the
handler's lock around ``emit``, and the writer holds that lock while it formats and writes a
batch (~200 records, 3-4 ms at 2 000 requests/s), so a request that logged its line
meanwhile stopped the whole event loop until the batch was written — some of the slowest
one to two per cent of the fast reads. ``handle`` here queues without the lock (queueing
needs none); the lock only keeps two writers (the thread and ``flush`` at exit) apart.

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
WAKE_AT = 512  # records waiting that wake the writer before its interval


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """``logging.StreamHandler`` whose ``emit`` only queues: a thread writes (see above)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._waiting: deque[logging.LogRecord] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._writer: threading.Thread | None = None
        self._pid = 0  # the process that started the writer (a fork starts its own)

    def handle(self, record: logging.LogRecord) -> bool:
        """``Handler.handle`` without the handler's lock (ADR 0975, 0977): queueing needs
        none, and the lock is the writer's while it formats and writes a batch (see above);
        after ``close``, ``emit`` takes the lock itself."""
        allowed = self.filter(record)
        if allowed:
            self.emit(allowed if isinstance(allowed, logging.LogRecord) else record)
        return bool(allowed)

    def emit(self, record: logging.LogRecord) -> None:
        if self._closed:  # after ``close`` (the process is ending): written right away
            self.acquire()
            try:
                super().emit(record)
            finally:
                self.release()
            return
        self._waiting.append(record)
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
        """Format and write every waiting record, in order, with one ``write``."""
        self.acquire()
        try:
            lines = []
            while self._waiting:
                record = self._waiting.popleft()
                try:
                    lines.append(self.format(record) + self.terminator)
                except Exception:  # logging's own rule: never raise
                    self.handleError(record)
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
