"""Prepares the ledger's monthly partitions ahead of time (PostgreSQL; ADR 0810).

An insert never waits for this loop (a default partition takes what no month covers), but
rows in the default partition stay there, so the worker keeps the current month and the next
ones created well before they start. Creating one takes a short lock on ``events``: it is
done once a month, at most, by whichever worker gets there first (``IF NOT EXISTS``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.ports.unit_of_work import Store

log = logging.getLogger(__name__)


class EventPartitionsWorker:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def run_once(self, now: datetime | None = None) -> list[str]:
        """Create the partitions due at ``now``; returns the names of those created."""
        created = self._store.prepare_partitions(to_micros(now or self._clock.now()))
        for name in created:
            log.info("created ledger partition %s", name)
        return created

    def run_forever(self, stop: threading.Event, interval_seconds: float = 3600.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a broken pass (database down) must not end the loop
                log.exception("preparing ledger partitions failed")
            stop.wait(interval_seconds)
