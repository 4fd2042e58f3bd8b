"""Small reads of the dashboard's corrections and alerts pages, so its handlers call use
cases only (the JSON routes read these straight from their repositories)."""

from __future__ import annotations

from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.service.alerts.ports import AlertEventRecord, DeliveryAttempt, OutboxItem
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord
from stripemeter_server.service.dashboard.ports import DashboardUnitOfWork as UnitOfWork

EVENTS_PAGE = 50
RECENT_REBUILDS = 20


def adjustments(uow: UnitOfWork) -> list[AdjustmentRecord]:
    return uow.adjustments.find()


def four_eyes(uow: UnitOfWork) -> bool:
    return uow.approvals.four_eyes()


def rebuild_job(uow: UnitOfWork, job_id: str) -> RebuildJobRecord:
    job = uow.rebuild_jobs.get(job_id)
    if job is None:
        raise NotFoundError(
            f"rebuild job {job_id!r} does not exist", code="job_not_found", field="id"
        )
    return job


def rebuild_jobs(uow: UnitOfWork, limit: int = RECENT_REBUILDS) -> list[RebuildJobRecord]:
    """The tenant's latest rebuild jobs, newest first."""
    return uow.rebuild_jobs.recent(limit)


def alert_events(uow: UnitOfWork, after_seq: int) -> list[AlertEventRecord]:
    return uow.alerts.events(after_seq=after_seq, limit=EVENTS_PAGE)


def alert_deliveries(
    uow: UnitOfWork, event_id: str
) -> tuple[AlertEventRecord, list[OutboxItem], list[DeliveryAttempt]]:
    event = uow.alerts.get_event(event_id)
    if event is None:
        raise NotFoundError(
            f"alert event {event_id!r} does not exist", code="alert_event_not_found", field="id"
        )
    return event, uow.alerts.outbox_for_event(event.seq), uow.alerts.attempts(event.seq)
