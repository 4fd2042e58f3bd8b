"""Reading usage: current totals, billing periods, arbitrary windows and history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain import json_text
from stripemeter_server.domain.counters import Contribution, CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Aggregation, Metric, MetricValueError, lookup
from stripemeter_server.domain.periods import (
    Period,
    PeriodSpec,
    PeriodType,
    period_containing,
    periods_overlapping,
)
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.catalog.definitions import is_closed, load_metrics, spec_for
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.ports.events import StepGrid, StoredEvent
from stripemeter_server.service.usage.ports import UsageUnitOfWork as UnitOfWork
from stripemeter_server.service.usage.steps import history_buckets, period_at

MAX_HISTORY_POINTS = 5000
CloseKey = tuple[str, str, int]  # metric, customer, period start (µs)


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    metric: Metric
    period: Period
    state: CounterState
    status: str
    lock: PeriodClose | None

    @property
    def value(self) -> Decimal | None:
        return self.state.value(self.metric.aggregation)


def current_usage(
    uow: UnitOfWork, customer_ref: str, now: datetime, metric_code: str | None = None
) -> list[PeriodUsage]:
    """Every metric's value for the customer's period containing ``now``."""
    metrics = load_metrics(uow)
    if metric_code is not None:
        metrics = {metric_code: get_metric(uow, metric_code)}
    customer = uow.customers.get(customer_ref)
    now_us = to_micros(now)
    found = uow.counters.find(
        customer_ref=customer_ref, start_from_us=now_us, start_before_us=now_us + 1
    )
    return usage_now(metrics, customer, found, uow.period_closes.find_many, customer_ref, now)


def usage_now(
    metrics: dict[str, Metric],
    customer: CustomerRecord | None,
    found: Iterable[StoredCounter],
    find_closes: Callable[[list[CloseKey]], dict[CloseKey, PeriodClose]],
    customer_ref: str,
    now: datetime,
) -> list[PeriodUsage]:
    """``current_usage`` from what it read: the counters whose period contains ``now`` and
    a lookup of period closes by key (shared with the one-statement read, ADR 0941)."""
    stored = {c.metric: c for c in found}
    periods = {code: period_at(spec_for(m, customer), now) for code, m in metrics.items()}
    locks = find_closes([(code, customer_ref, to_micros(p.start)) for code, p in periods.items()])
    out = []
    for code, metric in sorted(metrics.items()):
        period = periods[code]
        counter = stored.get(code)
        state = (
            counter.state
            if counter and counter.period_start_us == to_micros(period.start)
            else CounterState()
        )
        lock = locks.get((code, customer_ref, to_micros(period.start)))
        status = "closed" if is_closed(metric, period, lock, now) else "open"
        out.append(PeriodUsage(metric, period, state, status, lock))
    return out


def billing_periods(
    uow: UnitOfWork,
    customer_ref: str,
    metric_code: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[PeriodUsage]:
    """Each billing period overlapping [start, end): bounds, value and open/closed status."""
    metric = get_metric(uow, metric_code)
    customer = uow.customers.get(customer_ref)
    found = uow.counters.find(
        customer_ref=customer_ref,
        metric=metric_code,
        start_from_us=to_micros(start),
        start_before_us=to_micros(end),
    )
    return periods_of(
        metric, customer, found, uow.period_closes.find_many, customer_ref, (start, end), now
    )


def periods_of(
    metric: Metric,
    customer: CustomerRecord | None,
    found: Iterable[StoredCounter],
    find_closes: Callable[[list[CloseKey]], dict[CloseKey, PeriodClose]],
    customer_ref: str,
    span: tuple[datetime, datetime],
    now: datetime,
) -> list[PeriodUsage]:
    """``billing_periods`` from what it read: the metric, the customer's record, its
    counters of the metric overlapping ``span`` and a lookup of period closes by key
    (shared with the one-statement read, ADR 0961)."""
    spec = spec_for(metric, customer)
    periods = periods_overlapping(spec, span[0], span[1], limit=MAX_HISTORY_POINTS)
    stored = {c.period_start_us: c for c in found}
    keys = [(metric.code, customer_ref, to_micros(p.start)) for p in periods]
    locks = find_closes(keys)
    result = []
    for period, key in zip(periods, keys, strict=True):
        counter = stored.get(key[2])
        state = counter.state if counter else CounterState()
        lock = locks.get(key)
        status = "closed" if is_closed(metric, period, lock, now) else "open"
        result.append(PeriodUsage(metric, period, state, status, lock))
    return result


@dataclass(frozen=True, slots=True)
class WindowAggregates:
    count: int
    sum: Decimal
    max: Decimal | None
    min: Decimal | None
    latest: Decimal | None
    unique_count: int
    avg: Decimal | None
    value: Decimal | None
    from_counter: bool


def query_window(
    uow: UnitOfWork, customer_ref: str, metric_code: str, start: datetime, end: datetime
) -> WindowAggregates:
    """All aggregates over [start, end): from the counter when the window is exactly one
    billing period, otherwise from the ledger."""
    metric, state, from_counter = window_state(uow, customer_ref, metric_code, start, end)
    return _aggregates(metric, state, from_counter)


def window_state(
    uow: UnitOfWork, customer_ref: str, metric_code: str, start: datetime, end: datetime
) -> tuple[Metric, CounterState, bool]:
    """The metric, its counter state over [start, end) and whether it came from the
    counter (the window is exactly one billing period) rather than the ledger."""
    if end <= start:
        raise ValidationError("end must be after start", code="invalid_range", field="end")
    metric = get_metric(uow, metric_code)
    spec = spec_for(metric, uow.customers.get(customer_ref))
    period = period_containing(spec, start)
    if period.start == start and period.end == end:
        counter = uow.counters.get((metric_code, customer_ref, to_micros(start)))
        return metric, counter.state if counter else CounterState(), True
    return (
        metric,
        fold_events(
            metric, uow.events.stream(window_filter(metric_code, customer_ref, start, end))
        ),
        False,
    )


def window_filter(
    metric_code: str, customer_ref: str, start: datetime, end: datetime
) -> EventFilter:
    """The events that count for one customer's metric in [start, end)."""
    return EventFilter(
        metric=metric_code,
        customer_ref=customer_ref,
        ts_from_us=to_micros(start),
        ts_to_us=to_micros(end),
        only_counting=True,
    )


def _aggregates(metric: Metric, state: CounterState, from_counter: bool) -> WindowAggregates:
    avg = state.aggregate(Aggregation.AVG)
    return WindowAggregates(
        state.count,
        state.sum,
        state.max,
        state.min,
        state.latest_value,
        state.unique_count,
        avg,
        state.value(metric.aggregation),
        from_counter,
    )


def _measured(metric: Metric, event: StoredEvent) -> tuple[Decimal, str | None] | None:
    """What ``event`` contributes to ``metric`` (value, unique key), or None if nothing."""
    meta = json_text.loads(event.meta) if event.meta else None
    if not metric.matches(event.resource_id, meta):
        return None
    try:
        return metric.measure(event.quantity, event.resource_id, meta)
    except MetricValueError:
        return None


def fold_events(metric: Metric, events: Iterable[StoredEvent]) -> CounterState:
    state = CounterState()
    seen: set[str] = set()
    for event in events:
        measured = _measured(metric, event)
        if measured is None:
            continue
        value, unique = measured
        is_new = unique is not None and unique not in seen
        if unique is not None:
            seen.add(unique)
        state.apply(Contribution(value, event.ts_us, event.idempotency_key, is_new))
    return state


def fold_events_before(
    metric: Metric, events: Iterable[StoredEvent], cutoffs_us: list[int]
) -> list[CounterState]:
    """``fold_events`` of the events before each cutoff, in one pass over ``events``: the
    i-th state is what folding only the events with ``ts_us < cutoffs_us[i]`` gives."""
    states = [CounterState() for _ in cutoffs_us]
    seen: list[set[str]] = [set() for _ in cutoffs_us]
    for event in events:
        measured = _measured(metric, event)
        if measured is None:
            continue
        value, unique = measured
        for state, cutoff, keys in zip(states, cutoffs_us, seen, strict=True):
            if event.ts_us >= cutoff:
                continue
            is_new = unique is not None and unique not in keys
            if unique is not None:
                keys.add(unique)
            state.apply(Contribution(value, event.ts_us, event.idempotency_key, is_new))
    return states


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    start: datetime
    end: datetime
    group: str | None
    value: Decimal | None
    count: int


_STEPS = {"hour": PeriodType.HOUR, "day": PeriodType.DAY, "month": PeriodType.MONTH}


def usage_history(
    uow: UnitOfWork,
    customer_ref: str,
    metric_code: str,
    start: datetime,
    end: datetime,
    step: str,
    group_by: str | None,
) -> list[HistoryPoint]:
    """The metric's aggregation per time bucket (in the metric's time zone), from the ledger."""
    check_history(step, group_by, start, end)
    metric, customer = get_metric(uow, metric_code), uow.customers.get(customer_ref)
    return history_points(uow, metric, customer, customer_ref, (start, end), step, group_by)


def check_history(step: str, group_by: str | None, start: datetime, end: datetime) -> None:
    """A history's parameters, judged before its metric is looked up."""
    if step not in _STEPS:
        raise ValidationError("step must be hour, day or month", code="invalid_step", field="step")
    if group_by is not None and not group_by.startswith("meta."):
        raise ValidationError(
            'groupBy must be "meta.<key>"', code="invalid_group_by", field="groupBy"
        )
    if end <= start:
        raise ValidationError("to must be after from", code="invalid_range", field="to")


def history_points(
    uow: UnitOfWork,
    metric: Metric,
    customer: CustomerRecord | None,
    customer_ref: str,
    window: tuple[datetime, datetime],
    step: str,
    group_by: str | None,
) -> list[HistoryPoint]:
    """``usage_history``'s points once its parameters are judged and its metric and the
    customer's record are read (by two reads, or by one, ADR 0967)."""
    start, end = window
    spec = PeriodSpec(_STEPS[step], 1, spec_for(metric, customer).timezone)
    buckets, grid = history_buckets(spec, start, end, MAX_HISTORY_POINTS)
    span = (to_micros(start), to_micros(end))
    if group_by is None and (
        summed := _summed_history(uow, metric, customer_ref, span, buckets, grid)
    ):
        return summed
    grouped: dict[tuple[int, str | None], list[StoredEvent]] = defaultdict(list)
    for event in uow.events.stream(
        EventFilter(
            metric=metric.code,
            customer_ref=customer_ref,
            ts_from_us=span[0],
            ts_to_us=span[1],
            only_counting=True,
        )
    ):
        bucket = period_containing(spec, from_micros(event.ts_us))
        group = None
        if group_by is not None:
            found, raw = lookup(group_by, None, json_text.loads(event.meta) if event.meta else None)
            group = (
                json_text.dumps(raw)
                if found and not isinstance(raw, str)
                else (raw if found else None)
            )
        grouped[(to_micros(bucket.start), group)].append(event)
    groups = sorted({g for _, g in grouped}, key=lambda g: (g is not None, g or "")) or [None]
    if len(buckets) * len(groups) > MAX_HISTORY_POINTS:
        raise ValidationError(
            f"{len(buckets)} buckets x {len(groups)} groups; at most {MAX_HISTORY_POINTS} points",
            code="range_too_large",
            field="groupBy",
        )
    points = []
    for bucket in buckets:
        for group in groups:
            state = fold_events(metric, grouped.get((to_micros(bucket.start), group), []))
            points.append(
                HistoryPoint(
                    bucket.start,
                    bucket.end,
                    group,
                    state.aggregate(metric.aggregation),
                    state.count,
                )
            )
    return points


def _summed_history(
    uow: UnitOfWork,
    metric: Metric,
    customer_ref: str,
    span: tuple[int, int],
    buckets: Sequence[Period],
    grid: StepGrid | None,
) -> list[HistoryPoint] | None:
    """The history from the store's count and sum per bucket (ADR 0955), when that is what
    folding the events gives — every counting event counts (no filter), the value is the
    count or the sum of the quantities — and the buckets are of one width (hours, days in
    a zone without a clock change in the range); ``None`` otherwise. The events' bucket is
    then ``(ts - first start) // width``, which the store computes without a row reaching
    Python. ``span``: the events' range, as the ledger read is bounded."""
    if metric.filter or grid is None:
        return None
    if metric.aggregation is Aggregation.COUNT:
        counted = True
    elif metric.aggregation is Aggregation.SUM and metric.value_property == "quantity":
        counted = False
    else:
        return None
    found = {t.step: t for t in uow.events.step_totals(metric.code, customer_ref, span, grid)}
    points = []
    for index, bucket in enumerate(buckets):
        total = found.get(index)
        count, summed = (total.events, total.sum) if total else (0, ZERO)
        value = Decimal(count) if counted else summed
        points.append(HistoryPoint(bucket.start, bucket.end, None, value, count))
    return points
