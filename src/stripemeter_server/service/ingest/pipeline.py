"""Ingest: validate, dedupe, store and count a group of requests in one transaction.

Dedupe and counters are updated in the same transaction as the insert, so a failed write
never leaves a key "seen" without its event counted, and a read after the call returns
reflects it (read-your-writes). The pipeline reads straight through: each stage returns its
verdicts and the events that go on; the results are built once, at the end.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts.evaluation import evaluate_alerts
from stripemeter_server.service.ingest import stages
from stripemeter_server.service.ingest.backfill_gate import hold_backfilled
from stripemeter_server.service.ingest.counting import (
    NOTHING_COUNTED,
    Counted,
    count,
    count_if_open,
)
from stripemeter_server.service.ingest.outcome import (
    ACCEPTED,
    BatchRequest,
    EventResult,
    IngestOutcome,
    Verdict,
    rejected,
)
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ingest.tallies import record_tallies

T = TypeVar("T")


def ingest_batch(
    uow: IngestUnitOfWork,
    raw_events: Sequence[Any],
    *,
    now: datetime,
    limits: EventLimits,
    request_id: str | None = None,
    actor: str = "ingest",
) -> IngestOutcome:
    """Process one batch inside ``uow``; the caller commits."""
    request = BatchRequest(raw_events, now, request_id or f"req_{uuid.uuid4().hex[:24]}", actor)
    return ingest_group(uow, [request], now=now, limits=limits)[0]


def ingest_group(
    uow: IngestUnitOfWork, requests: Sequence[BatchRequest], *, now: datetime, limits: EventLimits
) -> list[IngestOutcome]:
    """Process several requests of one tenant as one batch (group commit).

    The result is what processing them one after another would give: dedupe across the
    requests is in order, each event keeps its own arrival time (which derived keys use), and
    the caller commits them together, so each request is still all-or-nothing.
    """
    return ingest_parsed(uow, parse_group(requests, uow.tenant_id, limits), now=now)


@dataclass(frozen=True, slots=True)
class ParsedGroup:
    """A group's requests with every event validated: pure work, done before the
    transaction opens (so a retry does not repeat it, and the write lock is held for the
    database work only)."""

    requests: Sequence[BatchRequest]
    parsed: stages.Parsed
    received_us: list[int]
    request_ids: list[str]
    actors: list[str]


def parse_group(
    requests: Sequence[BatchRequest], tenant_id: str, limits: EventLimits
) -> ParsedGroup:
    events = [event for request in requests for event in request.events]
    sizes = [len(r.events) for r in requests]
    return ParsedGroup(
        requests,
        stages.parse(events, tenant_id, _spread([r.received_at for r in requests], sizes), limits),
        _spread([to_micros(r.received_at) for r in requests], sizes),
        _spread([r.request_id for r in requests], sizes),
        _spread([r.actor for r in requests], sizes),
    )


def _spread(values: list[T], sizes: list[int]) -> list[T]:
    """Each request's value once per event of it (lists repeated in C, ADR 0976)."""
    out: list[T] = []
    for value, size in zip(values, sizes, strict=True):
        out += [value] * size
    return out


def ingest_parsed(
    uow: IngestUnitOfWork,
    group: ParsedGroup,
    *,
    now: datetime,
    stored: Mapping[str, str] | None = None,
) -> list[IngestOutcome]:
    """The database stages of a parsed group, inside ``uow``; the caller commits.
    ``stored``: the ledger's fingerprints of the group's keys, when the caller read them in
    this transaction already (``ledger_keys``)."""
    parsed = group.parsed
    unknown, in_ledger = stages.dedupe_against_ledger(uow, parsed.valid, stored)
    if not unknown:  # replays (and rejections) only: nothing to resolve, count or store
        verdicts = {**parsed.verdicts, **in_ledger}
        record_tallies(uow, verdicts.values(), now, _group_id(group))
        return _outcomes(group.requests, parsed.keys, verdicts, NOTHING_COUNTED)
    resolved = stages.resolve(uow, unknown, now)
    held, held_out = hold_backfilled(uow, resolved.candidates)
    fresh, in_batch = stages.dedupe_in_batch(held)
    # Counted before it is stored, so each row goes in with its late flag (no UPDATE per
    # late event afterwards); a key a racing writer claimed first rolls it all back (ADR 0889).
    # A small group's period locks are checked by its counters' claim where the store offers
    # it (ADR 0974); else the close policy reads them first.
    counted, closed = count_if_open(uow, fresh, now, group.actors), stages.Verdicts()
    if counted is None:
        fresh, closed = stages.apply_close_policy(uow, fresh, resolved.customers, now)
        counted = count(uow, fresh, now, group.actors)
    stages.record(uow, fresh, group.received_us, group.request_ids, counted.late)
    evaluate_alerts(uow, counted.touched, now)  # same transaction: fire-once with the usage
    verdicts = {
        **parsed.verdicts,
        **resolved.verdicts,
        **{index: rejected(error) for index, error in held_out.items()},
        **in_ledger,
        **in_batch,
        **closed,
        **_accepted(fresh, counted),
    }
    record_tallies(uow, verdicts.values(), now, _group_id(group))
    return _outcomes(group.requests, parsed.keys, verdicts, counted)


def ledger_keys(group: ParsedGroup) -> list[str]:
    """The keys whose fingerprints the group's ledger check reads (``ingest_parsed``)."""
    return stages.ledger_keys(group.parsed.valid)


def _group_id(group: ParsedGroup) -> str:
    """What picks the group's tally slot: its first event's request id."""
    return group.request_ids[0] if group.request_ids else ""


# The four answers an accepted event can get, built once: (late, late after close).
_ACCEPTED = {
    (late, after): Verdict(ACCEPTED, late=late, late_after_close=after)
    for late in (False, True)
    for after in (False, True)
}


def _accepted(stored: list[stages.Candidate], counted: Counted) -> dict[int, Verdict]:
    late = counted.late
    return {
        item.position: _ACCEPTED[item.position in late, item.late_target is not None]
        for item in stored
    }


def _outcomes(
    requests: Sequence[BatchRequest],
    keys: Sequence[str | None],
    verdicts: dict[int, Verdict],
    counted: Counted,
) -> list[IngestOutcome]:
    """One outcome per request, indexes relative to the request's own events."""
    outcomes, offset = [], 0
    of, result = EventResult.of, EventResult
    for request in requests:
        size = len(request.events)
        ordered = [verdicts[offset + i] for i in range(size)]
        # An answer without an error built here, not through ``of`` (a call less per event)
        results = tuple(
            [
                result(i, v.status, keys[offset + i], None, None, None, v.late, v.late_after_close)
                if v.error is None
                else of(i, keys[offset + i], v)
                for i, v in enumerate(ordered)
            ]
        )
        tally: Counter[str] = Counter()
        for verdict, n in Counter(ordered).items():  # a few shared verdicts (``tally_of``)
            tally[verdict.status] += n
        outcomes.append(IngestOutcome(request.request_id, results, counted.touched, tally))
        offset += size
    return outcomes
