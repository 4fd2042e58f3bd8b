"""Planning pushes: which counters Stripe does not yet match, and the outbox rows that fix it.

For every ``meter_events`` / ``usage_records`` mapping of a tenant, the planner looks at the
counters written since the last pass (``counters.updated_us`` with an overlap, so a slow
transaction committed after the previous scan is not missed), or, in a full sweep, at every
counter whose period is still inside Stripe's 35-day window plus the pushed counters that
vanished (all events voided, metric rebuilt). For each it computes ``next_push`` from the
ledger's whole value and writes the outbox row together with the counter's new push state,
in the caller's one transaction, before any Stripe call: all of a metric's moves at once
(ADR 0820); if another planner advanced one of those counters first, the transaction is
rolled back and planned again (``RetryableConflict``, which the runner retries).

A counter that still has an unsent row (pending, or parked as failed) gets no new one: one
push per counter at a time keeps the order and means one call in flight per customer and
meter. Nothing is skipped: once the row is sent, the next pass pushes what changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.push_plan import (
    PushDecision,
    next_push,
    oldest_pushable_end_s,
    push_identifier,
    push_timestamp,
    too_old_for_stripe,
)
from stripemeter_server.domain.stripe_mapping import (
    MeterFormula,
    StripeMapping,
    SyncMode,
    meter_formula,
)
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.stripe_sync.mappings import list_mappings
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    PushRow,
    PushState,
    StateKey,
    unsent_target,
)
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

TOO_OLD = "timestamp_too_far_in_past"
PUSHED_MODES = (SyncMode.METER_EVENTS, SyncMode.USAGE_RECORDS)


@dataclass(frozen=True, slots=True)
class _Candidate:
    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    value: Decimal | None
    counter_updated_us: int | None = None  # as read: the state's marker (ADR 0850)

    @property
    def key(self) -> StateKey:
        return (self.metric, self.customer_ref, self.period_start_us)


def target_of(mapping: StripeMapping) -> str:
    """What a counter's pushed total refers to; a new target starts again from nothing."""
    if mapping.mode is SyncMode.USAGE_RECORDS:
        return f"usage_records:{mapping.price}"
    return f"meter_events:{mapping.event_name}"


def formula_of(mapping: StripeMapping, metric: Metric) -> MeterFormula:
    """Usage records are ``set`` to the period's total, like a ``last`` meter's value."""
    if mapping.mode is SyncMode.USAGE_RECORDS:
        return MeterFormula.LAST
    return meter_formula(metric.aggregation)


def plan_tenant(
    uow: UnitOfWork, now: datetime, *, since_us: int | None, overlap_us: int | None = None
) -> int:
    """Write the outbox rows the tenant's counters need; ``since_us=None`` is a full sweep.
    ``overlap_us`` (incremental passes): how long a write may take to commit; a counter
    planned that long after its last write is not read again. Returns how many rows were
    written (the caller commits)."""
    return len(plan_tenant_rows(uow, now, since_us=since_us, overlap_us=overlap_us))


def plan_tenant_rows(
    uow: UnitOfWork, now: datetime, *, since_us: int | None, overlap_us: int | None = None
) -> list[PushRow]:
    """``plan_tenant``, returning the rows written as they are stored: once committed, the
    worker hands its pending ones to its sender, which leases them without reading them
    back (ADR 0965)."""
    metrics = load_metrics(uow)
    planned: list[PushRow] = []
    for mapping in list_mappings(uow):
        metric = metrics.get(mapping.metric)
        if mapping.mode in PUSHED_MODES and metric is not None:
            planned += _plan_metric(uow, mapping, metric, now, since_us, overlap_us)
    return planned


def _candidates(
    uow: UnitOfWork, metric: Metric, min_end_us: int, since_us: int | None, overlap_us: int | None
) -> list[_Candidate]:
    agg = metric.aggregation  # the scan reads only what the value needs (ADR 0973)
    if since_us is None:
        changed = uow.pushes.changed_counters(
            metric.code, since_us=None, min_end_us=min_end_us, aggregation=agg
        )
    else:
        changed = uow.pushes.changed_counters(
            metric.code, since_us=since_us, min_end_us=None, settled_us=overlap_us, aggregation=agg
        )
    found = [
        _Candidate(
            c.counter.metric,
            c.counter.customer_ref,
            c.counter.period_start_us,
            c.counter.period_end_us,
            c.counter.state.value(agg),
            c.updated_us,
        )
        for c in changed
    ]
    if since_us is None:
        found += [
            _Candidate(s.metric, s.customer_ref, s.period_start_us, s.period_end_us, None)
            for s in uow.pushes.orphaned_states(metric.code, min_end_us)
        ]
    return found


def _plan_metric(
    uow: UnitOfWork,
    mapping: StripeMapping,
    metric: Metric,
    now: datetime,
    since_us: int | None,
    overlap_us: int | None,
) -> list[PushRow]:
    now_us = to_micros(now)
    min_end_us = oldest_pushable_end_s(now_us // MICROS) * MICROS
    candidates = _candidates(uow, metric, min_end_us, since_us, overlap_us)
    if not candidates:
        return []
    states = uow.pushes.states(metric.code, {c.customer_ref for c in candidates})
    unsent = uow.pushes.unsent_keys(metric.code)
    target = target_of(mapping)
    formula = formula_of(mapping, metric)
    blocking = unsent_target(mapping.mode.value, mapping.event_name)
    moves: list[tuple[PushState | None, PushState, PushRow]] = []
    for candidate in candidates:
        if (*candidate.key, blocking) in unsent:
            continue
        state = states.get(candidate.key)
        same_target = state is not None and state.target == target
        pushed = state.pushed_units if state is not None and same_target else None
        decision = next_push(candidate.value, pushed, formula, mapping.scale)
        if decision is None or (state is None and candidate.period_end_us <= min_end_us):
            continue  # nothing to do, or history from before the mapping, outside Stripe's window
        previous_ts = state.last_ts_s if state is not None and same_target else None
        moves.append(
            _move(
                uow.tenant_id,
                mapping,
                formula,
                candidate,
                state,
                previous_ts,
                decision,
                target,
                now_us,
            )
        )
    if not uow.pushes.advance_many([(m[0], m[1]) for m in moves], now_us):
        # Another planner advanced one of these counters first: roll back, plan again.
        raise RetryableConflict("another worker planned some of these counters first")
    rows = [m[2] for m in moves]
    uow.pushes.add_many(rows)  # one statement for the outbox rows
    return rows


def _move(
    tenant_id: str,
    mapping: StripeMapping,
    formula: MeterFormula,
    candidate: _Candidate,
    state: PushState | None,
    previous_ts: int | None,
    decision: PushDecision,
    target: str,
    now_us: int,
) -> tuple[PushState | None, PushState, PushRow]:
    """The counter's push state before and after, and the outbox row that goes with it
    (written together, all of a pass at once, by the caller)."""
    now_s = now_us // MICROS
    seq = state.next_seq if state is not None else 0
    start_s, end_s = candidate.period_start_us // MICROS, candidate.period_end_us // MICROS
    status, error, code = PENDING, None, None
    if mapping.mode is SyncMode.METER_EVENTS:
        timestamp: int | None = push_timestamp(
            now_s, start_s, end_s, previous_ts, strictly_after=formula is MeterFormula.LAST
        )
        assert timestamp is not None
        if too_old_for_stripe(timestamp, now_s):
            status, code = FAILED, TOO_OLD
            error = (
                "the period ended more than 35 days ago: Stripe refuses meter events "
                "that old (bill the difference by hand, e.g. an invoice item)"
            )
    else:
        timestamp = previous_ts  # one fixed time per period, chosen at the first send
    after = PushState(
        candidate.metric,
        candidate.customer_ref,
        candidate.period_start_us,
        candidate.period_end_us,
        target,
        decision.pushed_units_after,
        seq + 1,
        timestamp,
        candidate.counter_updated_us,
    )
    return (
        state,
        after,
        PushRow(
            tenant_id=tenant_id,
            push_id=push_identifier(
                tenant_id, candidate.metric, candidate.customer_ref, candidate.period_start_us, seq
            ),
            metric=candidate.metric,
            customer_ref=candidate.customer_ref,
            period_start_us=candidate.period_start_us,
            period_end_us=candidate.period_end_us,
            seq=seq,
            mode=mapping.mode,
            transport=mapping.transport,
            target=mapping.event_name if mapping.mode is SyncMode.METER_EVENTS else None,
            stripe_customer_id=None,
            value=decision.value,
            pushed_after=decision.pushed_units_after,
            timestamp_s=timestamp,
            status=status,
            attempts=0,
            last_error=error,
            last_error_code=code,
            next_attempt_us=now_us,
            lease_until_us=None,
            created_us=now_us,
            sent_us=None,
            updated_us=now_us,
        ),
    )
