"""The housekeeping loop: deletes what only ever grows and nobody reads any more.

* ingest tallies older than the dashboard shows (``service/ingest/tallies.py``), each
  tenant's oldest minutes first;
* expired dashboard sessions (``service/dashboard/sessions.py``).

Every delete is a bounded batch in its own short transaction, and a pass does at most
``max_batches`` per tenant, so a backlog (a first run on an old store) is worked off over
a few passes without a long lock. Safe to run in any number of processes: a delete of rows
another process already deleted deletes nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.ingest.tallies import PRUNE_BATCH, prune_tallies
from stripemeter_server.service.operations.tenancy import list_tenants
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case

log = logging.getLogger(__name__)
SESSION_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Swept:
    tallies: int
    sessions: int


class HousekeepingWorker:
    def __init__(
        self, store: Store, clock: Clock, *, batch: int = PRUNE_BATCH, max_batches: int = 10
    ) -> None:
        self._store = store
        self._clock = clock
        self._batch = batch
        self._max_batches = max_batches

    def run_once(self, now: datetime | None = None) -> Swept:
        at = now or self._clock.now()
        tallies = sum(
            self._prune_tenant(tenant.tenant_id, at)
            for tenant in run_use_case(self._store, "", list_tenants, read_only=True)
        )
        sessions = run_use_case(
            self._store,
            "",
            lambda uow: uow.dashboard_sessions.delete_expired(to_micros(at), SESSION_BATCH),
        )
        return Swept(tallies, sessions)

    def _prune_tenant(self, tenant_id: str, now: datetime) -> int:
        deleted = 0
        for _ in range(self._max_batches):
            done = run_use_case(
                self._store, tenant_id, lambda uow: prune_tallies(uow, now, self._batch)
            )
            deleted += done
            if done < self._batch:
                break
        return deleted

    def run_forever(self, stop: threading.Event, interval_seconds: float = 60.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a broken pass (database down) must not end the loop
                log.exception("housekeeping pass failed")
            stop.wait(interval_seconds)
