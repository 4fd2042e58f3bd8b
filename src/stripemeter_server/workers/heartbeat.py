"""Heartbeats of the background loops, so ``/health/ready`` can tell a dead worker.

Every loop (``run_forever``) asks its stop event ``is_set()`` once per pass. A
:class:`BeatingStop` is that stop event with one addition: when asked, it records a beat
for its loop (at most every ``every_seconds``) in ``worker_heartbeats``. A loop stuck inside
a pass stops asking, so its beat goes stale — which is what readiness must notice — and no
loop needs to know about heartbeats.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.operations.ports import Heartbeat
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case

log = logging.getLogger(__name__)


def worker_id() -> str:
    """This process: host, pid and a random tag (pids are reused after restarts)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class BeatingStop(threading.Event):
    """A view of ``stop`` that beats for ``loop`` whenever the loop checks it."""

    def __init__(
        self,
        stop: threading.Event,
        store: Store,
        clock: Clock,
        loop: str,
        *,
        process: str | None = None,
        every_seconds: float = 5.0,
    ) -> None:
        super().__init__()
        self._stop = stop
        self._store = store
        self._clock = clock
        self._every = every_seconds
        self._last: float | None = None
        now_us = to_micros(clock.now())
        self._beat = Heartbeat(
            process or worker_id(), loop, socket.gethostname()[:255], os.getpid(), now_us, now_us
        )

    def is_set(self) -> bool:
        self.beat()
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    def set(self) -> None:
        self._stop.set()

    def beat(self, *, force: bool = False) -> None:
        """Record a beat, unless one was recorded less than ``every_seconds`` ago."""
        now = time.monotonic()
        if not force and self._last is not None and now - self._last < self._every:
            return
        self._last = now
        beat = Heartbeat(
            **{
                **{k: getattr(self._beat, k) for k in Heartbeat.__slots__},
                "beat_us": to_micros(self._clock.now()),
            }
        )
        try:
            run_use_case(self._store, "", lambda uow: uow.heartbeats.beat(beat))
        except StripemeterError:  # the database is away: the stale beat will say so
            log.warning("could not record the heartbeat of %s", beat.loop)
