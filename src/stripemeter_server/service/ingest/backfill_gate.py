"""Ingest's side of backfill sessions: an event tagged with a session is checked against the
session's scope and stored without counting; the session's close makes it count."""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.events import ValidEvent
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.ports.backfills import OPEN, BackfillRecord
from stripemeter_server.service.ingest.ports import IngestUnitOfWork


class Candidate(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def event(self) -> ValidEvent: ...
    @property
    def metric(self) -> Metric: ...

    def held_back(self) -> Self:
        """The same event, stored but not counted until its session closes."""
        ...


C = TypeVar("C", bound=Candidate)


def hold_backfilled(
    uow: IngestUnitOfWork, prepared: list[C]
) -> tuple[list[C], dict[int, EventRejected]]:
    """Events of open sessions come back held (stored, not counted); misfits are rejected.

    Costs nothing when no event names a session (the common case)."""
    ids = sorted({p.event.backfill_id for p in prepared if p.event.backfill_id})
    if not ids:
        return prepared, {}
    sessions = uow.backfills.get_shared(ids)
    kept: list[C] = []
    rejected: dict[int, EventRejected] = {}
    for item in prepared:
        backfill_id = item.event.backfill_id
        if backfill_id is None:
            kept.append(item)
            continue
        problem = misfit(sessions.get(backfill_id), item.event, item.metric.code)
        if problem is None:
            kept.append(item.held_back())
        else:
            rejected[item.position] = problem
    return kept, rejected


def misfit(session: BackfillRecord | None, event: ValidEvent, metric: str) -> EventRejected | None:
    """Why the event cannot join the session, or None when it can."""
    if session is None:
        return _rejected(
            f"backfill session {event.backfill_id!r} does not exist", "backfill_not_found"
        )
    if session.status != OPEN:
        return _rejected(
            f"backfill session {session.backfill_id!r} is {session.status}; "
            "only an open session takes events",
            "backfill_not_open",
        )
    if metric != session.metric:
        return _rejected(
            f"backfill session {session.backfill_id!r} is for metric {session.metric!r}",
            "outside_backfill",
        )
    if session.customers is not None and event.customer_ref not in session.customers:
        return _rejected("the session is not open for this customerRef", "outside_backfill")
    ts_us = to_micros(event.ts)
    if (session.ts_from_us is not None and ts_us < session.ts_from_us) or (
        session.ts_to_us is not None and ts_us >= session.ts_to_us
    ):
        return _rejected("ts is outside the session's time range", "outside_backfill")
    return None


def _rejected(message: str, code: str) -> EventRejected:
    return EventRejected(message, code=code, field="backfillId")
