"""The worker loop for Stripe webhook jobs (the invoice flow).

The webhook route already runs each job right after its commit; this loop is what makes
that safe to lose: it claims every job that is due (never processed, retrying, or whose
lease expired because a process died mid-job) and runs it. Any number of loops may run
against PostgreSQL; claims use ``FOR UPDATE SKIP LOCKED`` and a lease.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from stripemeter_server.service.clock import Clock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.invoice_flow import DEFAULT_POLICY, JobPolicy, claim_due, run_job
from stripemeter_server.storage.unit_of_work import Store

log = logging.getLogger(__name__)


class InvoiceJobWorker:
    def __init__(self, ctx: ServiceContext, policy: JobPolicy = DEFAULT_POLICY) -> None:
        self._ctx = ctx
        self._policy = policy

    def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim what is due and run each job; returns the number claimed."""
        jobs = claim_due(self._ctx, self._policy, now)
        for job in jobs:
            try:
                run_job(self._ctx, job, self._policy)
            except Exception:  # like a crash: the lease expires and a later pass retries
                log.exception("Stripe webhook job %s (tenant %s) failed; it will be retried",
                              job.event_id, job.tenant_id)
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


def start_invoice_jobs(settings: object, store: Store, clock: Clock, *,
                       once: bool = False) -> threading.Thread | None:
    """The hook ``stripemeter worker`` calls: one pass now (``once``), else the loop in a
    daemon thread (a killed process loses nothing: leases expire and jobs are re-claimed)."""
    from stripemeter_server.api.app import stripe_access
    from stripemeter_server.api.settings import Settings

    assert isinstance(settings, Settings)
    worker = InvoiceJobWorker(ServiceContext(store=store, clock=clock,
                                             stripe=stripe_access(settings)))
    if once:
        worker.run_once()
        return None
    thread = threading.Thread(target=worker.run_forever, args=(threading.Event(),),
                              name="stripemeter-invoice-jobs", daemon=True)
    thread.start()
    return thread
