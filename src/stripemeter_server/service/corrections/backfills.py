"""Backfill sessions: re-import history safely.

Open a session for a metric (optionally some customers and a time range), ingest events
tagged with its id (stored, not counted), then close it (they count, atomically) or revert
it (they stop counting, atomically). In four-eyes mode a close waits for a second key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.domain.errors import ConflictError, NotFoundError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import get_metric, require_metric
from stripemeter_server.service.corrections.backfill_effects import (
    count_session,
    refresh,
    uncount_session,
)
from stripemeter_server.service.corrections.commands import OpenBackfill
from stripemeter_server.service.corrections.ports.backfills import (
    CLOSED,
    OPEN,
    PENDING,
    REVERTED,
    ApprovalRecord,
    BackfillRecord,
)
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.operations import audit


@dataclass(frozen=True, slots=True)
class BackfillView:
    """A session with its tallies (events held, of which void) and its approval, if any."""

    record: BackfillRecord
    events: int
    voided: int
    approval: ApprovalRecord | None


def open_backfill(
    uow: UnitOfWork, command: OpenBackfill, actor: str, now: datetime
) -> BackfillRecord:
    """A new open session; an unknown metric (404) is refused before malformed terms."""
    metric = command.metric
    require_metric(uow, metric)
    terms = command.terms.get()
    record = BackfillRecord(
        backfill_id=f"bf_{uuid.uuid4().hex[:24]}",
        metric=metric,
        customers=terms.customers,
        ts_from_us=terms.ts_from_us,
        ts_to_us=terms.ts_to_us,
        status=OPEN,
        note=terms.note,
        created_by=actor,
        created_us=to_micros(now),
    )
    uow.backfills.add(record)
    audit.record(
        uow,
        now,
        "backfill.open",
        "backfill",
        record.backfill_id,
        after={"metric": metric, "status": OPEN},
    )
    return record


def get_backfill(uow: UnitOfWork, backfill_id: str) -> BackfillView:
    return _view(uow, _existing(uow, backfill_id))


def list_backfills(uow: UnitOfWork, status: str | None = None) -> list[BackfillView]:
    records = uow.backfills.find(statuses=[status] if status else None)
    tallies = uow.events.backfill_tallies([r.backfill_id for r in records])
    return [
        BackfillView(r, *tallies.get(r.backfill_id, (0, 0)), uow.approvals.get(r.backfill_id))
        for r in records
    ]


def close_backfill(uow: UnitOfWork, backfill_id: str, actor: str, now: datetime) -> BackfillView:
    """Start counting the session's events, or (four-eyes) ask a second key to approve."""
    session = _locked(uow, backfill_id, expected=(OPEN,))
    session = session.with_changes(close_requested_by=actor, close_requested_us=to_micros(now))
    pending = uow.approvals.four_eyes()
    audit.record(
        uow,
        now,
        "backfill.close",
        "backfill",
        backfill_id,
        before={"status": OPEN},
        after={"status": PENDING if pending else CLOSED},
    )
    if pending:
        uow.backfills.save(session.with_changes(status=PENDING))
        return get_backfill(uow, backfill_id)
    return apply_close(uow, session, actor, now)


def apply_close(
    uow: UnitOfWork, session: BackfillRecord, closer: str, now: datetime
) -> BackfillView:
    """The close itself, on a locked session (directly, or on approval)."""
    metric = get_metric(uow, session.metric)
    report = count_session(uow, session, metric, closer, now)
    closed = session.with_changes(
        status=CLOSED,
        closed_by=closer,
        closed_us=to_micros(now),
        report=json.dumps({"close": report.summary()}),
    )
    uow.backfills.save(closed)
    refresh(uow, metric, report, now)
    return get_backfill(uow, session.backfill_id)


def revert_backfill(uow: UnitOfWork, backfill_id: str, actor: str, now: datetime) -> BackfillView:
    """Stop counting the session's events. An open or pending session just ends."""
    session = _locked(uow, backfill_id, expected=(OPEN, PENDING, CLOSED))
    audit.record(
        uow,
        now,
        "backfill.revert",
        "backfill",
        backfill_id,
        before={"status": session.status},
        after={"status": REVERTED},
    )
    changes: dict[str, Any] = {
        "status": REVERTED,
        "reverted_by": actor,
        "reverted_us": to_micros(now),
    }
    if session.status != CLOSED:
        uow.backfills.save(session.with_changes(**changes))
        return get_backfill(uow, backfill_id)
    metric = get_metric(uow, session.metric)
    report = uncount_session(uow, session, metric, actor, now)
    previous = json.loads(session.report) if session.report else {}
    changes["report"] = json.dumps({**previous, "revert": report.summary()})
    uow.backfills.save(session.with_changes(**changes))
    refresh(uow, metric, report, now)
    return get_backfill(uow, backfill_id)


def open_sessions_for(
    uow: UnitOfWork, customer_ref: str, metric: str | None = None
) -> list[BackfillRecord]:
    """Sessions whose events do not count yet and may concern this customer (reads say so)."""
    return [
        r
        for r in uow.backfills.find(statuses=[OPEN, PENDING], metric=metric)
        if r.customers is None or customer_ref in r.customers
    ]


def _locked(uow: UnitOfWork, backfill_id: str, *, expected: Sequence[str]) -> BackfillRecord:
    session = uow.backfills.get(backfill_id, lock=True)
    if session is None:
        raise _not_found(backfill_id)
    if session.status not in expected:
        raise ConflictError(
            f"backfill session {backfill_id!r} is {session.status}; this needs it "
            + " or ".join(expected),
            code="backfill_not_" + expected[0],
            field="id",
        )
    return session


def _existing(uow: UnitOfWork, backfill_id: str) -> BackfillRecord:
    session = uow.backfills.get(backfill_id)
    if session is None:
        raise _not_found(backfill_id)
    return session


def _not_found(backfill_id: str) -> NotFoundError:
    return NotFoundError(
        f"backfill session {backfill_id!r} does not exist", code="backfill_not_found", field="id"
    )


def _view(uow: UnitOfWork, record: BackfillRecord) -> BackfillView:
    held, voided = uow.events.backfill_tallies([record.backfill_id]).get(record.backfill_id, (0, 0))
    return BackfillView(record, held, voided, uow.approvals.get(record.backfill_id))
