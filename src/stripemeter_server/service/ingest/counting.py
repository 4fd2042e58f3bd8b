"""Counting: a group's accepted events folded into their counters, one write per counter.

Each touched counter is locked and read once, every event of the group is folded into it in
memory (the watermark that tells a late event needs the counter's state), and each counter is
written back once. A late event of a closed period moves its effect onto the open period, as a
booked adjustment (ADR 0002). It runs before the events are stored, so each goes into the
ledger with its late flag (ADR 0889).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.counters import Contribution, value_delta
from stripemeter_server.domain.decimals import add
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import is_closed
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ingest.stages import Candidate
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter


@dataclass(frozen=True, slots=True)
class Counted:
    late: frozenset[int]  # indexes of events that arrived behind their counter's watermark
    touched: frozenset[CounterKey]


NOTHING_COUNTED = Counted(frozenset(), frozenset())


def count(
    uow: IngestUnitOfWork, fresh: list[Candidate], now: datetime, actors: Sequence[str]
) -> Counted:
    counting = [p for p in fresh if p.counts]
    if not counting:
        return NOTHING_COUNTED
    now_us = to_micros(now)
    periods: dict[CounterKey, int] = {}
    for item in counting:
        periods[item.counter_key] = to_micros(item.period.end)
        if item.late_target is not None:
            periods[_target_key(item)] = to_micros(item.late_target.end)
    new_uniques = uow.counters.add_uniques(
        [(*p.counter_key, p.unique) for p in counting if p.unique is not None]
    )
    counters = uow.counters.lock(periods, now_us)
    return _fold(uow, counting, counters, new_uniques, now, actors)


# A group this small gets the period locks checked in its counters' claim: the round trip
# saved is a share of a group of single events; a batch of hundreds would pay a pass over
# its events for a round trip among many (and SQLite, which does not offer it, for nothing).
SMALL_GROUP = 64


def count_if_open(
    uow: IngestUnitOfWork, fresh: list[Candidate], now: datetime, actors: Sequence[str]
) -> Counted | None:
    """``count`` for a small group whose periods the clock has not closed and that has no
    distinct values, with the period locks checked by the counters' claim in its statement
    (ADR 0974): one round trip where the closes' read and the claim were two. None when the
    group does not qualify, the store does not offer it, or a period is closed by a lock —
    nothing was locked, and the caller applies the close policy and counts."""
    if not 0 < len(fresh) <= SMALL_GROUP:
        return None
    counting, checked, periods = [], set(), {}
    for item in fresh:
        if item.held:
            continue  # stored, not counted; the close policy lets it through
        if is_closed(item.metric, item.period, None, now):
            return None  # late after its period's close: the usual path books it
        checked.add(item.counter_key)
        if item.counts:
            if item.unique is not None:
                return None  # distinct values are recorded before the claim
            counting.append(item)
            periods[item.counter_key] = to_micros(item.period.end)
    if not counting:
        return None
    counters = uow.counters.lock_if_open(periods, to_micros(now), sorted(checked))
    if counters is None:
        return None
    return _fold(uow, counting, counters, set(), now, actors)


def _fold(
    uow: IngestUnitOfWork,
    counting: list[Candidate],
    counters: dict[CounterKey, StoredCounter],
    new_uniques: set[tuple[str, str, int, str]],
    now: datetime,
    actors: Sequence[str],
) -> Counted:
    """Every counting event folded into its locked counter, each counter written back
    once, the late events' effects booked."""
    late: list[Candidate] = []
    adjustments = []
    new = tuple.__new__
    for item in counting:
        is_new = False
        if item.unique is not None:
            unique_key = (*item.counter_key, item.unique)
            is_new = unique_key in new_uniques
            if is_new:  # a value new to the period counts once, for its first event
                new_uniques.discard(unique_key)
        counter = counters[item.counter_key]
        state = counter.state
        contribution = new(  # no Python-level ``__new__`` per event (ADR 0976)
            Contribution, (item.value, item.ts_us, item.event.idempotency_key, is_new)
        )
        if item.late_target is None:  # nearly every event: folded in, noted when late
            if state.apply(contribution):
                late.append(item)
            continue
        before = state.aggregate(item.metric.aggregation)  # moved out of a closed period
        if state.apply(contribution):
            late.append(item)
        effect = value_delta(before, state.aggregate(item.metric.aggregation))
        target = counters[_target_key(item)]
        actor = actors[item.position]
        adjustments.append(_book_late(counter, target, item, effect, now, actor))
    uow.counters.save(counters.values(), to_micros(now))
    uow.adjustments.add_many(adjustments)
    return Counted(frozenset(p.position for p in late), frozenset(counters))


def _target_key(item: Candidate) -> CounterKey:
    assert item.late_target is not None
    return (item.metric.code, item.event.customer_ref, to_micros(item.late_target.start))


def _book_late(
    source: StoredCounter,
    target: StoredCounter,
    item: Candidate,
    effect: Decimal,
    now: datetime,
    actor: str,
) -> AdjustmentRecord:
    """Move a late event's effect out of its closed period onto the open one."""
    source.state.late_out = add(source.state.late_out, effect)
    target.state.adjustments = add(target.state.adjustments, effect)
    return AdjustmentRecord(
        adjustment_id=f"adj_{uuid.uuid4().hex[:24]}",
        metric=item.metric.code,
        customer_ref=item.event.customer_ref,
        period_start_us=target.period_start_us,
        delta=effect,
        reason="late_event",
        note=None,
        actor=actor,
        status="approved",
        event_key=item.event.idempotency_key,
        source_period_start_us=source.period_start_us,
        reverts=None,
        created_us=to_micros(now),
    )
