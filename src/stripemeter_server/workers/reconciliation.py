"""The reconciliation loop: queue the scheduled runs that are due, then claim and execute
queued runs (or runs whose worker died: their lease lapsed). Any number of loops may run
against one PostgreSQL; a run is executed by the one process holding its lease."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
from stripemeter_server.service.reconciliation.schedule import schedule_due
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.tenant_rounds import TenantRounds, all_tenants

log = logging.getLogger(__name__)


class ReconciliationWorker:
    def __init__(
        self,
        ctx: ServiceContext,
        policy: RunPolicy | None = None,
        *,
        lead_seconds: int = 3600,
        schedule: bool = True,
        batch: int = 10,
    ) -> None:
        self._ctx = ctx
        self._policy = policy or RunPolicy()
        self._lead = lead_seconds
        self._schedule = schedule
        self._batch = batch
        self._rounds = TenantRounds()

    def run_once(self, now: datetime | None = None) -> int:
        """One pass; returns how many runs it executed."""
        at = now or self._ctx.clock.now()
        if self._schedule:
            schedule_due(self._ctx, at, self._lead)
        waiting = self._rounds.claim(
            all_tenants(self._ctx.store),
            self._batch,
            lambda tenant, most: run_use_case(
                self._ctx.store,
                tenant,
                lambda uow: uow.reconciliation.queued_runs(most),
                read_only=True,
            ),
        )
        executed = 0
        for tenant, run_id in waiting:
            try:
                if execute(self._ctx, tenant, run_id, self._policy) is not None:
                    executed += 1
            except Exception:  # recorded as failed on the run; the loop goes on
                log.exception("reconciliation run %s (tenant %s) failed", run_id, tenant)
        return executed

    def run_forever(self, stop: threading.Event, interval_seconds: float = 5.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a broken pass (database down) must not end the loop
                log.exception("reconciliation pass failed")
            stop.wait(interval_seconds)
