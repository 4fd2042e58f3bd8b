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

from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.metrics import Aggregation, Metric
from stripemeter_server.domain.push_plan import (
    PushDecision,
    next_push,
    oldest_pushable_end_s,
    push_identifiers,
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
    TOO_OLD,
    TOO_OLD_ERROR,
    DeltaPlan,
    PushesRepository,
    PushRow,
    PushState,
    unsent_target,
)
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

PUSHED_MODES = (SyncMode.METER_EVENTS, SyncMode.USAGE_RECORDS)
# Pushed as a ``sum`` and never empty: the value is the aggregate plus the corrections.
SET_BASED_AGGREGATIONS = frozenset({Aggregation.COUNT, Aggregation.SUM, Aggregation.UNIQUE_COUNT})


# A counter the scan found: (metric, customer_ref, period_start_us, period_end_us, value,
# the ``updated_us`` read — the state's marker, ADR 0850). A tuple: a plan builds one per
# changed counter, and a frozen dataclass's ``__init__`` cost several times a tuple's.
_Candidate = tuple[str, str, int, int, Decimal | None, int | None]


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


def _candidates(pushes: PushesRepository, plan: DeltaPlan) -> list[_Candidate]:
    agg = plan.metric.aggregation  # the scan reads only what the value needs (ADR 0973)
    code, since_us = plan.metric.code, plan.since_us
    if since_us is None:
        changed = pushes.changed_counters(
            code, since_us=None, min_end_us=plan.min_end_us, aggregation=agg
        )
    else:
        changed = pushes.changed_counters(
            code, since_us=since_us, min_end_us=None, settled_us=plan.settled_us, aggregation=agg
        )
    found: list[_Candidate] = []
    for c in changed:
        counter = c.counter
        found.append(
            (
                counter.metric,
                counter.customer_ref,
                counter.period_start_us,
                counter.period_end_us,
                counter.state.value(agg),
                c.updated_us,
            )
        )
    if since_us is None:
        found += [
            (s.metric, s.customer_ref, s.period_start_us, s.period_end_us, None, None)
            for s in pushes.orphaned_states(code, plan.min_end_us)
        ]
    return found


def set_based(plan: DeltaPlan) -> bool:
    """Whether the store computes this plan in SQL (ADR 0985): a ``meter_events`` mapping
    whose metric is pushed as a ``sum`` (count, sum, unique count: a value that is never
    empty, exact in SQL), sweeps and incremental passes alike. ``last`` formulas (an
    average's division, the timestamp's step) and usage records: the Python plan."""
    return (
        plan.mapping.mode is SyncMode.METER_EVENTS
        and plan.metric.aggregation in SET_BASED_AGGREGATIONS
    )


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
    target = target_of(mapping)
    plan = DeltaPlan(
        uow.tenant_id, mapping, metric, target, now_us, min_end_us, since_us, overlap_us
    )
    rows = uow.pushes.plan_deltas(plan) if set_based(plan) else plan_in_python(uow.pushes, plan)
    if rows is None:
        # Another planner advanced one of these counters first: roll back, plan again.
        raise RetryableConflict("another worker planned some of these counters first")
    return rows


def plan_in_python(pushes: PushesRepository, plan: DeltaPlan) -> list[PushRow] | None:
    """The plan computed here, row by row, through the store's reads and writes: every
    plan ``set_based`` does not take, the fake store's ``plan_deltas``, and the oracle the
    stores' set-based plans are tested against. None: another planner moved a state first."""
    candidates = _candidates(pushes, plan)
    if not candidates:
        return []
    mapping, code, min_end_us = plan.mapping, plan.metric.code, plan.min_end_us
    states = pushes.states(code, {c[1] for c in candidates})
    unsent = pushes.unsent_keys(code)
    target = plan.target
    formula = formula_of(mapping, plan.metric)
    blocking = unsent_target(mapping.mode.value, mapping.event_name)
    mover = _Mover(plan.tenant_id, mapping, formula, target, plan.now_us)
    moves: list[tuple[PushState | None, PushState]] = []
    rows: list[PushRow] = []
    for candidate in candidates:
        key = candidate[:3]
        if (*key, blocking) in unsent:
            continue
        state = states.get(key)
        same_target = state is not None and state.target == target
        pushed = state.pushed_units if state is not None and same_target else None
        decision = next_push(candidate[4], pushed, formula, mapping.scale)
        if decision is None or (state is None and candidate[3] <= min_end_us):
            continue  # nothing to do, or history from before the mapping, outside Stripe's window
        previous_ts = state.last_ts_s if state is not None and same_target else None
        after, row = mover.move(candidate, state, previous_ts, decision)
        moves.append((state, after))
        rows.append(row)
    if not pushes.advance_many(moves, plan.now_us):
        return None
    pushes.add_many(rows)  # one statement for the outbox rows
    return rows


class _Mover:
    """One metric's moves in a plan: what is the same for all its rows (the mapping's
    mode, transport and event name, the clock read, the identifiers' hashed prefix) is
    worked out once, not per row (a plan moves thousands of counters)."""

    def __init__(
        self,
        tenant_id: str,
        mapping: StripeMapping,
        formula: MeterFormula,
        target: str,
        now_us: int,
    ) -> None:
        self._tenant = tenant_id
        self._mapping = mapping
        self._events = mapping.mode is SyncMode.METER_EVENTS
        self._event_name = mapping.event_name if self._events else None
        self._strictly_after = formula is MeterFormula.LAST
        self._target = target
        self._now_us, self._now_s = now_us, now_us // MICROS
        self._identifier = push_identifiers(tenant_id, mapping.metric)

    def move(
        self,
        candidate: _Candidate,
        state: PushState | None,
        previous_ts: int | None,
        decision: PushDecision,
    ) -> tuple[PushState, PushRow]:
        """The counter's push state after, and the outbox row that goes with it (written
        together, all of a pass at once, by the caller)."""
        metric, customer_ref, start_us, end_us, _, counter_updated_us = candidate
        now_us, now_s = self._now_us, self._now_s
        seq = state.next_seq if state is not None else 0
        status, error, code = PENDING, None, None
        if self._events:
            timestamp: int | None = push_timestamp(
                now_s,
                start_us // MICROS,
                end_us // MICROS,
                previous_ts,
                strictly_after=self._strictly_after,
            )
            assert timestamp is not None
            if too_old_for_stripe(timestamp, now_s):
                status, code, error = FAILED, TOO_OLD, TOO_OLD_ERROR
        else:
            timestamp = previous_ts  # one fixed time per period, chosen at the first send
        after = PushState(
            metric,
            customer_ref,
            start_us,
            end_us,
            self._target,
            decision.pushed_units_after,
            seq + 1,
            timestamp,
            counter_updated_us,
        )
        # By position, in ``PushRow``'s field order (by keyword, ~6 µs a row; a test pins
        # the row a plan writes field by field).
        row = PushRow(
            self._tenant,
            self._identifier(customer_ref, start_us, seq),  # push_id
            metric,
            customer_ref,
            start_us,
            end_us,
            seq,
            self._mapping.mode,
            self._mapping.transport,
            self._event_name,  # target
            None,  # stripe_customer_id
            decision.value,
            decision.pushed_units_after,
            timestamp,
            status,
            0,  # attempts
            error,
            code,
            now_us,  # next_attempt_us
            None,  # lease_until_us
            now_us,  # created_us
            None,  # sent_us
            now_us,  # updated_us
        )
        return after, row
