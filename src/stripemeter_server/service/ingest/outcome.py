"""What ingest answers: one immutable result per event, built once at the end of the pipeline
from the verdicts its stages returned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.service.ports.counters import CounterKey

ACCEPTED, DUPLICATE, CONFLICT, REJECTED = "accepted", "duplicate", "conflict", "rejected"


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One client request inside a group commit: its events, arrival time, id and key."""

    events: Sequence[Any]
    received_at: datetime
    request_id: str
    actor: str = "ingest"


class Verdict(NamedTuple):
    """What a stage decided about one event (a tuple: built per event, immutable)."""

    status: str
    error: EventRejected | None = None
    late: bool = False
    late_after_close: bool = False


DUPLICATE_VERDICT = Verdict(DUPLICATE)
CONFLICT_VERDICT = Verdict(
    CONFLICT,
    EventRejected(
        "an event with this idempotencyKey exists with a different payload",
        code="idempotency_conflict",
        field="idempotencyKey",
    ),
)


def rejected(error: EventRejected) -> Verdict:
    return Verdict(REJECTED, error)


@dataclass(slots=True)
class EventResult:
    """One event's answer. Not frozen, though nothing changes it: one is built per event of
    every request, and a frozen dataclass's ``__init__`` (``object.__setattr__`` per field)
    cost several times a plain one's there."""

    index: int
    status: str
    idempotency_key: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_field: str | None = None
    late: bool = False
    late_after_close: bool = False

    @classmethod
    def of(cls, index: int, key: str | None, verdict: Verdict) -> EventResult:
        error = verdict.error
        if error is None:
            return cls(
                index, verdict.status, key, None, None, None, verdict.late, verdict.late_after_close
            )
        return cls(
            index,
            verdict.status,
            key,
            error.code,
            error.message,
            error.field,
            verdict.late,
            verdict.late_after_close,
        )


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    request_id: str
    results: tuple[EventResult, ...]
    touched: frozenset[CounterKey] = frozenset()
    # Results per status, counted once (the answer and the metrics ask for each status).
    tally: Mapping[str, int] = field(default_factory=dict, compare=False)

    def count(self, status: str) -> int:
        if self.tally:
            return self.tally.get(status, 0)
        return sum(1 for r in self.results if r.status == status)
