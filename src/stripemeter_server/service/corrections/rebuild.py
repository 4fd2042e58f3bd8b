"""Rebuild counters from the ledger: the counters are a cache, and this proves it.

The rebuild folds every non-void event into its period exactly as ingest does, then re-books
the stored adjustments (including late-event effects, which are facts of the ledger, not
recomputed). Rebuilt counters must equal live counters; the property tests check it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain import json_text
from stripemeter_server.domain.counters import Contribution, CounterState
from stripemeter_server.domain.decimals import add
from stripemeter_server.domain.metrics import Aggregation, Metric, MetricValueError
from stripemeter_server.domain.periods import PeriodSpec, period_containing
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.catalog.definitions import customers_for, spec_for
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.operations import audit
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RebuildReport:
    metric: str
    customer_ref: str | None
    events: int
    counters: int
    skipped: int


def rebuild_metric(
    uow: UnitOfWork,
    metric: Metric,
    *,
    customer_ref: str | None,
    now_us: int,
    progress: Progress | None = None,
) -> RebuildReport:
    uow.counters.delete(metric=metric.code, customer_ref=customer_ref)
    records = (
        uow.customers.everyone() if customer_ref is None else customers_for(uow, [customer_ref])
    )
    specs = _SpecCache(metric, records)
    states: dict[CounterKey, StoredCounter] = {}
    uniques: set[tuple[str, str, int, str]] = set()
    folded = _fold_in_store(uow, metric, customer_ref, specs, states)
    if folded is not None:
        seen, skipped = folded, 0
    else:
        seen, skipped = _fold_rows(uow, metric, customer_ref, specs, states, uniques, progress)
    for adjustment in uow.adjustments.find(metric=metric.code, customer_ref=customer_ref):
        if adjustment.status != "approved":
            continue
        target = _counter_for(
            metric, adjustment.customer_ref, adjustment.period_start_us, specs, states
        )
        target.state.adjustments = add(target.state.adjustments, adjustment.delta)
        if adjustment.source_period_start_us is not None:
            source = _counter_for(
                metric, adjustment.customer_ref, adjustment.source_period_start_us, specs, states
            )
            source.state.late_out = add(source.state.late_out, adjustment.delta)
    uow.counters.insert_many(states.values(), now_us)
    uow.counters.insert_uniques(sorted(uniques))
    if progress is not None:
        progress(seen)
    return RebuildReport(metric.code, customer_ref, seen, len(states), skipped)


def _sql_foldable(metric: Metric) -> bool:
    """Whether the store can aggregate this metric's counters itself: every counting event
    counts (no filter), with its quantity as value, and no distinct values to collect."""
    return (
        not metric.filter
        and metric.aggregation is not Aggregation.UNIQUE_COUNT
        and (metric.value_property == "quantity" or metric.aggregation is Aggregation.COUNT)
    )


# Beyond this many periods per customer on average (e.g. daily periods over decades of
# backfilled history), the temporary period table would outgrow the events: fold in Python.
_PERIODS_PER_CUSTOMER = 400


def _fold_in_store(
    uow: UnitOfWork,
    metric: Metric,
    customer_ref: str | None,
    specs: _SpecCache,
    states: dict[CounterKey, StoredCounter],
) -> int | None:
    """The ledger aggregated per counter by the store (ADR 0870): the event count, or None
    when this metric must be folded row by row (see ``_sql_foldable``, too many periods)."""
    if not _sql_foldable(metric):
        return None
    spans = uow.events.counting_spans(metric.code, customer_ref)
    limit = _PERIODS_PER_CUSTOMER * len(spans) + 10_000
    periods: list[tuple[str, int, int]] = []
    for customer, first_us, last_us in spans:
        ts_us = first_us
        while len(periods) <= limit:
            start_us, end_us = specs.period(customer, ts_us)
            periods.append((customer, start_us, end_us))
            if last_us < end_us:
                break
            ts_us = end_us
    if len(periods) > limit:
        return None
    seen = 0
    for t in uow.events.period_totals(metric.code, customer_ref, periods):
        seen += t.events
        state = CounterState(
            count=t.events,
            sum=t.sum,
            max=t.max,
            min=t.min,
            latest_value=t.latest_value,
            latest_ts_us=t.latest_ts_us,
            latest_key=t.latest_key,
            watermark_us=t.watermark_us,
            late_count=t.late_count,
        )
        key = (metric.code, t.customer_ref, t.period_start_us)
        states[key] = StoredCounter(*key, t.period_end_us, state)
    return seen


def _fold_rows(
    uow: UnitOfWork,
    metric: Metric,
    customer_ref: str | None,
    specs: _SpecCache,
    states: dict[CounterKey, StoredCounter],
    uniques: set[tuple[str, str, int, str]],
    progress: Progress | None,
) -> tuple[int, int]:
    """Every counting event folded in Python, as ingest does; returns (seen, skipped)."""
    late_counts: dict[CounterKey, int] = {}
    seen = skipped = 0
    needs_meta = _reads_meta(metric)
    for event in uow.events.counting_rows(metric.code, customer_ref):
        seen += 1
        if progress is not None and seen % 10_000 == 0:
            progress(seen)
        meta = json_text.loads(event.meta) if event.meta and needs_meta else None
        if not metric.matches(event.resource_id, meta):
            continue
        try:
            value, unique = metric.measure(event.quantity, event.resource_id, meta)
        except MetricValueError:
            skipped += 1
            continue
        counter = _counter_for(metric, event.customer_ref, event.ts_us, specs, states)
        is_new = False
        if unique is not None:
            unique_key = (metric.code, event.customer_ref, counter.period_start_us, unique)
            is_new = unique_key not in uniques
            uniques.add(unique_key)
        counter.state.apply(Contribution(value, event.ts_us, event.idempotency_key, is_new))
        late_counts[counter.key] = late_counts.get(counter.key, 0) + int(event.late)
    for key, counter in states.items():
        # ``late`` depends on arrival order, which the ledger recorded per event: reuse it.
        counter.state.late_count = late_counts.get(key, 0)
    return seen, skipped


def _reads_meta(metric: Metric) -> bool:
    """Whether counting this metric looks inside ``meta`` (else skip decoding it)."""
    return (
        any(path.startswith("meta.") for path, _ in metric.filter)
        or metric.value_property.startswith("meta.")
        or (
            metric.aggregation is Aggregation.UNIQUE_COUNT
            and metric.unique_property.startswith("meta.")
        )
    )


class _SpecCache:
    """Each customer's period spec, computed once (their record may override the metric's),
    and the counter of the customer's period last seen: most events fall in it."""

    def __init__(self, metric: Metric, records: Mapping[str, CustomerRecord]) -> None:
        self._metric = metric
        self._records = records
        self._specs: dict[str, PeriodSpec] = {}
        self._periods: dict[PeriodSpec, list[tuple[int, int]]] = {}
        self.last: dict[str, StoredCounter] = {}

    def period(self, customer_ref: str, ts_us: int) -> tuple[int, int]:
        """The customer's period around ``ts_us`` as (start, end) microseconds; customers
        sharing a spec share its periods, so each is computed once."""
        spec = self(customer_ref)
        known = self._periods.setdefault(spec, [])
        for start_us, end_us in known:
            if start_us <= ts_us < end_us:
                return start_us, end_us
        period = period_containing(spec, from_micros(ts_us))
        found = (to_micros(period.start), to_micros(period.end))
        known.append(found)
        return found

    def __call__(self, customer_ref: str) -> PeriodSpec:
        spec = self._specs.get(customer_ref)
        if spec is None:
            spec = spec_for(self._metric, self._records.get(customer_ref))
            self._specs[customer_ref] = spec
        return spec


def _counter_for(
    metric: Metric,
    customer_ref: str,
    ts_us: int,
    specs: _SpecCache,
    states: dict[CounterKey, StoredCounter],
) -> StoredCounter:
    last = specs.last.get(customer_ref)
    if last is not None and last.period_start_us <= ts_us < last.period_end_us:
        return last
    start_us, end_us = specs.period(customer_ref, ts_us)
    key = (metric.code, customer_ref, start_us)
    counter = states.get(key)
    if counter is None:
        counter = StoredCounter(metric.code, customer_ref, start_us, end_us, CounterState())
        states[key] = counter
    specs.last[customer_ref] = counter
    return counter


def rebuild_requested(
    uow: UnitOfWork,
    metric: Metric,
    *,
    customer_ref: str | None,
    now: datetime,
    progress: Progress | None = None,
) -> RebuildReport:
    """A rebuild an operator asked for (CLI, API): the same work, recorded in the audit log.
    Rebuilds that are part of another change (a metric's new aggregation, a void) are
    recorded as that change."""
    report = rebuild_metric(
        uow, metric, customer_ref=customer_ref, now_us=to_micros(now), progress=progress
    )
    audit.record(
        uow,
        now,
        "counters.rebuild",
        "metric",
        metric.code,
        after={
            "customerRef": customer_ref,
            "events": report.events,
            "counters": report.counters,
            "skipped": report.skipped,
        },
    )
    return report
