"""CloudEvents ingest: the same ledger, dedupe and counters as ``/v1/events/ingest``.

All or nothing, as OpenMeter's endpoint is: one bad event refuses the request (400 with every
problem listed) and nothing is stored, so a producer fixes and re-sends the batch; re-sent
events that were stored before are duplicates (their key is ``source`` + ``id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from stripemeter_server.domain.cloudevents import to_event
from stripemeter_server.domain.errors import EventRejected, ValidationError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.ingest.outcome import IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.ingest.ports import IngestUnitOfWork as UnitOfWork


class CloudEventsRejected(ValidationError):
    """Some events of the request are invalid; ``errors`` says which and why."""

    code = "invalid_events"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} CloudEvent(s) refused; nothing was stored")
        self.errors = errors


def ingest_cloudevents(
    uow: UnitOfWork,
    raw_events: Sequence[Any],
    *,
    now: datetime,
    limits: EventLimits,
    request_id: str,
    actor: str,
) -> IngestOutcome:
    """Map and ingest inside ``uow``; raises ``CloudEventsRejected`` before the caller commits."""
    mapped, errors = [], []
    for index, raw in enumerate(raw_events):
        try:
            mapped.append(to_event(raw))
        except EventRejected as exc:
            errors.append(_problem(index, exc.code, exc.message, exc.field))
    if errors:
        raise CloudEventsRejected(errors)
    outcome = ingest_batch(uow, mapped, now=now, limits=limits, request_id=request_id, actor=actor)
    errors = [
        _problem(r.index, r.error_code or r.status, r.error_message or r.status, r.error_field)
        for r in outcome.results
        if r.status in ("rejected", "conflict")
    ]
    if errors:
        raise CloudEventsRejected(errors)
    return outcome


def _problem(index: int, code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"index": index, "field": _attribute_for(field), "code": code, "message": message}


def _attribute_for(field: str | None) -> str | None:
    """Name the CloudEvents attribute the client sent, not the internal field."""
    names = {
        "metric": "type",
        "customerRef": "subject",
        "ts": "time",
        "idempotencyKey": "id",
        "quantity": "data.quantity",
    }
    if field is not None and field.startswith("meta."):
        return "data." + field.removeprefix("meta.")
    return names.get(field or "", field)
