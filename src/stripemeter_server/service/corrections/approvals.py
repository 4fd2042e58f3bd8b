"""Four-eyes mode: adjustments and backfill closes wait for a second key.

Per tenant. While it is on, a new adjustment (a revert too) and a backfill close start
``pending`` and count only once a *different* API key approves them; a rejected one never
counts. Each decision is recorded once (who asked, who decided, when) in ``approvals``.
"""

from __future__ import annotations

from datetime import datetime

from stripemeter_server.domain.errors import ConflictError, ForbiddenError, NotFoundError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.adjustments import book_on_counter, open_period_of
from stripemeter_server.service.corrections.backfills import BackfillView, apply_close, get_backfill
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.corrections.ports.backfills import PENDING, REJECTED, ApprovalRecord
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.operations import audit

APPROVED = "approved"


def set_four_eyes(uow: UnitOfWork, on: bool, actor: str, now: datetime) -> bool:
    uow.approvals.set_four_eyes(on, actor, to_micros(now))
    audit.record(
        uow, now, "corrections_policy.update", "tenant", uow.tenant_id, after={"fourEyes": on}
    )
    return on


def decide_adjustment(
    uow: UnitOfWork,
    adjustment_id: str,
    decision: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> AdjustmentRecord:
    """Approve (it counts now; its period must still be open) or reject (it never counts)."""
    record = uow.adjustments.get(adjustment_id)
    if record is None:
        raise NotFoundError(
            f"adjustment {adjustment_id!r} does not exist", code="adjustment_not_found", field="id"
        )
    _check_pending(record.status, adjustment_id)
    _check_second_key(record.actor, actor)
    _record(
        uow,
        adjustment_id,
        "adjustment",
        record.actor,
        record.created_us,
        decision,
        actor,
        now,
        note,
    )
    uow.adjustments.set_status(adjustment_id, decision)
    if decision == APPROVED:
        period, key = open_period_of(uow, record, now)
        book_on_counter(uow, key, period, record.delta, now)
    return uow.adjustments.get(adjustment_id) or record


def decide_backfill(
    uow: UnitOfWork,
    backfill_id: str,
    decision: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> BackfillView:
    """Approve a pending close (the session's events count now) or reject it (never)."""
    session = uow.backfills.get(backfill_id, lock=True)
    if session is None:
        raise NotFoundError(
            f"backfill session {backfill_id!r} does not exist",
            code="backfill_not_found",
            field="id",
        )
    _check_pending(session.status, backfill_id)
    requester = session.close_requested_by or session.created_by
    _check_second_key(requester, actor)
    _record(
        uow,
        backfill_id,
        "backfill_close",
        requester,
        session.close_requested_us or session.created_us,
        decision,
        actor,
        now,
        note,
    )
    if decision == APPROVED:
        return apply_close(uow, session, actor, now)
    uow.backfills.save(session.with_changes(status=REJECTED))
    return get_backfill(uow, backfill_id)


def _check_pending(status: str, subject_id: str) -> None:
    if status != PENDING:
        raise ConflictError(
            f"{subject_id} is {status}; only a pending one can be decided",
            code="not_pending",
            field="id",
        )


def _check_second_key(requester: str, actor: str) -> None:
    if requester == actor:
        raise ForbiddenError(
            "four-eyes mode: a different API key must approve or reject what this key asked for",
            code="same_key",
        )


def _record(
    uow: UnitOfWork,
    subject_id: str,
    kind: str,
    requested_by: str,
    requested_us: int,
    decision: str,
    actor: str,
    now: datetime,
    note: str | None,
) -> None:
    record = ApprovalRecord(
        subject_id, kind, requested_by, requested_us, decision, actor, to_micros(now), note
    )
    if not uow.approvals.add(record):
        raise ConflictError(f"{subject_id} was already decided", code="not_pending", field="id")
    audit.record(
        uow,
        now,
        f"{kind}.{'approve' if decision == APPROVED else 'reject'}",
        kind,
        subject_id,
        before={"status": PENDING, "requestedBy": requested_by},
        after={"status": decision},
    )


def four_eyes(uow: UnitOfWork) -> bool:
    """Whether the tenant's corrections need a second key's approval."""
    return uow.approvals.four_eyes()


def adjustment_with_approval(
    uow: UnitOfWork, adjustment_id: str
) -> tuple[AdjustmentRecord, ApprovalRecord | None]:
    record = uow.adjustments.get(adjustment_id)
    if record is None:
        raise NotFoundError(
            f"adjustment {adjustment_id!r} does not exist", code="adjustment_not_found", field="id"
        )
    return record, uow.approvals.get(adjustment_id)
