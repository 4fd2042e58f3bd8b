"""Rebuilds as jobs (``POST /v1/rebuilds``): recorded, run in the background, polled.

A job's work is one transaction: the rebuilt counters and the job's ``succeeded`` row commit
together. Live progress (events folded so far) is kept by the process running the job; any
node can read the job's row.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from stripemeter_server.domain.errors import (
    NotFoundError,
    StripemeterError,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import get_metric, require_metric
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.corrections.commands import RebuildTarget
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.corrections.rebuild import rebuild_requested
from stripemeter_server.service.runner import run_use_case

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


def submit_rebuild(
    uow: UnitOfWork, target: RebuildTarget, actor: str, now: datetime
) -> RebuildJobRecord:
    """Record a job for an existing metric (and optionally one customer)."""
    require_metric(uow, target.metric)
    record = RebuildJobRecord(
        f"rbj_{uuid.uuid4().hex[:24]}",
        target.metric,
        target.customer_ref,
        RUNNING,
        0,
        0,
        0,
        None,
        actor,
        to_micros(now),
        None,
    )
    uow.rebuild_jobs.add(record)
    return record


def run_rebuild_job(
    ctx: ServiceContext, tenant_id: str, job: RebuildJobRecord, progress: Callable[[int], None]
) -> None:
    """Do the job (retried whole on a deadlock); a failure is recorded on the job's row."""

    def rebuild(uow: UnitOfWork) -> None:
        metric = get_metric(uow, job.metric)
        report = rebuild_requested(
            uow, metric, customer_ref=job.customer_ref, now=ctx.clock.now(), progress=progress
        )
        uow.rebuild_jobs.finish(
            job.job_id,
            status=SUCCEEDED,
            events=report.events,
            counters=report.counters,
            skipped=report.skipped,
            finished_us=to_micros(ctx.clock.now()),
        )

    try:
        # The job's key is the rebuild's actor in the audit log, as if it ran in the request.
        run_use_case(ctx.store, tenant_id, rebuild, actor=job.requested_by)
    except Exception as exc:  # recorded for the poller, whatever it was
        reason = exc.message if isinstance(exc, StripemeterError) else type(exc).__name__
        run_use_case(
            ctx.store,
            tenant_id,
            lambda uow: uow.rebuild_jobs.finish(
                job.job_id, status=FAILED, error=reason, finished_us=to_micros(ctx.clock.now())
            ),
        )


@dataclass
class RebuildRunner:
    """Runs jobs in daemon threads and remembers their live progress (this process only)."""

    _progress: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, ctx: ServiceContext, tenant_id: str, job: RebuildJobRecord) -> threading.Event:
        done = threading.Event()

        def report(events: int) -> None:
            with self._lock:
                self._progress[job.job_id] = events

        def work() -> None:
            try:
                run_rebuild_job(ctx, tenant_id, job, report)
            finally:
                with self._lock:
                    self._progress.pop(job.job_id, None)
                done.set()

        threading.Thread(target=work, name=f"rebuild-{job.job_id}", daemon=True).start()
        return done

    def progress(self, job_id: str) -> int | None:
        with self._lock:
            return self._progress.get(job_id)


def get_job(uow: UnitOfWork, job_id: str) -> RebuildJobRecord:
    job = uow.rebuild_jobs.get(job_id)
    if job is None:
        raise NotFoundError(
            f"rebuild job {job_id!r} does not exist", code="job_not_found", field="id"
        )
    return job
