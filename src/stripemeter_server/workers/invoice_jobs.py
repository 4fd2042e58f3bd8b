"""The worker loop for Stripe webhook jobs (the invoice flow).

The webhook route already runs each job right after its commit; this loop is what makes
that safe to lose: it claims every job that is due (never processed, retrying, or whose
lease expired because a process died mid-job) and runs it. Any number of loops may run
against PostgreSQL; claims go tenant by tenant and use ``FOR UPDATE SKIP LOCKED`` and a lease.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.invoicing.flow import DEFAULT_POLICY, JobPolicy, claim_due, run_job
from stripemeter_server.service.tenant_rounds import TenantRounds

log = logging.getLogger(__name__)


class InvoiceJobWorker:
    def __init__(self, ctx: ServiceContext, policy: JobPolicy = DEFAULT_POLICY) -> None:
        self._ctx = ctx
        self._policy = policy
        self._rounds = TenantRounds()

    def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim what is due and run each job; returns the number claimed."""
        jobs = claim_due(self._ctx, self._policy, now, self._rounds)
        for job in jobs:
            try:
                run_job(self._ctx, job, self._policy)
            except Exception:  # like a crash: the lease expires and a later pass retries
                log.exception(
                    "Stripe webhook job %s (tenant %s) failed; it will be retried",
                    job.event_id,
                    job.tenant_id,
                )
        return len(jobs)

    def run_forever(self, stop: threading.Event, interval_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a broken pass (database down) must not end the loop
                log.exception("Stripe webhook job pass failed")
                busy = 0
            if not busy:
                stop.wait(interval_seconds)
