"""Ingest: validate, dedupe, store and count a batch of events in one transaction.

Dedupe and counters are updated in the same transaction as the insert, so a failed write
never leaves a key "seen" without its event counted, and a read after the call returns
reflects it (read-your-writes).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.counters import Contribution, value_delta
from stripemeter_server.domain.decimals import add
from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.events import EventLimits, ValidEvent, echoable_key, validate_event
from stripemeter_server.domain.metrics import Metric, MetricValueError
from stripemeter_server.domain.periods import Period, period_containing
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts import evaluate_alerts
from stripemeter_server.service.backfill_gate import hold_backfilled
from stripemeter_server.service.catalog import (
    current_open_period,
    customers_for,
    encode_metric,
    is_closed,
    load_metrics,
    spec_for,
)
from stripemeter_server.service.ports.corrections import AdjustmentRecord
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter
from stripemeter_server.service.ports.unit_of_work import IngestUnitOfWork

ACCEPTED, DUPLICATE, CONFLICT, REJECTED = "accepted", "duplicate", "conflict", "rejected"


@dataclass(slots=True)
class EventResult:
    index: int
    status: str
    idempotency_key: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_field: str | None = None
    late: bool = False
    late_after_close: bool = False


@dataclass(slots=True)
class IngestOutcome:
    request_id: str
    results: list[EventResult]
    touched: set[CounterKey] = field(default_factory=set)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


@dataclass(slots=True)
class _Prepared:
    index: int
    event: ValidEvent
    metric: Metric
    period: Period
    counts: bool
    value: Decimal
    unique: str | None
    late_target: Period | None = None
    held: bool = False  # in an open backfill session: stored, counted when it closes

    @property
    def counter_key(self) -> CounterKey:
        return (self.metric.code, self.event.customer_ref, to_micros(self.period.start))


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One client request inside a group commit: its events, arrival time, id and key."""

    events: Sequence[Any]
    received_at: datetime
    request_id: str
    actor: str = "ingest"


@dataclass(slots=True)
class _Slots:
    """Per-event facts of a (possibly grouped) batch, by index in the concatenated list."""

    received_at: list[datetime]
    request_ids: list[str]
    actors: list[str]


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
    events = [event for request in requests for event in request.events]
    slots = _Slots(
        [r.received_at for r in requests for _ in r.events],
        [r.request_id for r in requests for _ in r.events],
        [r.actor for r in requests for _ in r.events],
    )
    combined = IngestOutcome(
        requests[0].request_id if requests else "",
        [EventResult(i, REJECTED) for i in range(len(events))],
    )
    valid = _validate(events, uow.tenant_id, slots.received_at, limits, combined.results)
    prepared = _prepare(uow, valid, now, combined.results)
    prepared = hold_backfilled(uow, prepared, lambda i, e: _reject(combined.results[i], e))
    fresh = _dedupe_in_batch(prepared, combined.results)
    fresh = _apply_close_policy(uow, fresh, now, combined.results)
    inserted = _insert(uow, fresh, slots, combined)
    _count(uow, inserted, now, combined, slots.actors)
    evaluate_alerts(uow, combined.touched, now)  # same transaction: fire-once with the usage
    return _split(requests, combined)


def _split(requests: Sequence[BatchRequest], combined: IngestOutcome) -> list[IngestOutcome]:
    outcomes, offset = [], 0
    for request in requests:
        results = combined.results[offset : offset + len(request.events)]
        for result in results:
            result.index -= offset
        outcomes.append(IngestOutcome(request.request_id, results, combined.touched))
        offset += len(request.events)
    return outcomes


def _reject(result: EventResult, error: EventRejected) -> None:
    result.status, result.error_code = REJECTED, error.code
    result.error_message, result.error_field = error.message, error.field


def _validate(
    raw_events: Sequence[Any],
    tenant_id: str,
    received_at: Sequence[datetime],
    limits: EventLimits,
    results: list[EventResult],
) -> list[tuple[int, ValidEvent]]:
    valid = []
    for index, raw in enumerate(raw_events):
        try:
            event = validate_event(
                raw, tenant_id=tenant_id, received_at=received_at[index], limits=limits
            )
        except EventRejected as error:
            _reject(results[index], error)
            results[index].idempotency_key = echoable_key(raw)
            continue
        results[index].idempotency_key = event.idempotency_key
        valid.append((index, event))
    return valid


def _resolve_metrics(uow: IngestUnitOfWork, codes: set[str], now: datetime) -> dict[str, Metric]:
    metrics = load_metrics(uow)
    missing = codes - metrics.keys()
    if missing:
        tenant = uow.tenants.get(uow.tenant_id)
        if tenant is not None and tenant.auto_create_metrics:
            for code in sorted(missing):
                metric = Metric(code=code)
                if not uow.metrics.add(code, encode_metric(metric), to_micros(now)):
                    continue
                metrics[code] = metric
            metrics = load_metrics(uow) if missing - metrics.keys() else metrics
    return metrics


def _prepare(
    uow: IngestUnitOfWork,
    valid: list[tuple[int, ValidEvent]],
    now: datetime,
    results: list[EventResult],
) -> list[_Prepared]:
    metrics = _resolve_metrics(uow, {e.metric for _, e in valid}, now)
    customers = customers_for(uow, [e.customer_ref for _, e in valid])
    prepared = []
    for index, event in valid:
        metric = metrics.get(event.metric)
        if metric is None:
            _reject(
                results[index],
                EventRejected(
                    f"metric {event.metric!r} is not defined "
                    "(create it, or turn on autoCreateMetrics)",
                    code="unknown_metric",
                    field="metric",
                ),
            )
            continue
        counts = metric.matches(event.resource_id, event.meta)
        try:
            value, unique = metric.measure(
                event.quantity, event.resource_id, event.meta, counted=counts
            )
        except MetricValueError as exc:
            _reject(
                results[index],
                EventRejected(str(exc), code="invalid_value", field=metric.value_property),
            )
            continue
        spec = spec_for(metric, customers.get(event.customer_ref))
        prepared.append(
            _Prepared(
                index, event, metric, period_containing(spec, event.ts), counts, value, unique
            )
        )
    return prepared


def _dedupe_in_batch(prepared: list[_Prepared], results: list[EventResult]) -> list[_Prepared]:
    first: dict[str, _Prepared] = {}
    fresh = []
    for item in prepared:
        seen = first.get(item.event.idempotency_key)
        if seen is None:
            first[item.event.idempotency_key] = item
            fresh.append(item)
        elif seen.event.fingerprint == item.event.fingerprint:
            results[item.index].status = DUPLICATE
        else:
            _mark_conflict(results[item.index])
    return fresh


def _mark_conflict(result: EventResult) -> None:
    result.status = CONFLICT
    result.error_code = "idempotency_conflict"
    result.error_message = "an event with this idempotencyKey exists with a different payload"
    result.error_field = "idempotencyKey"


def _apply_close_policy(
    uow: IngestUnitOfWork, fresh: list[_Prepared], now: datetime, results: list[EventResult]
) -> list[_Prepared]:
    locks = uow.period_closes.find_many([p.counter_key for p in fresh])
    kept = []
    for item in fresh:
        if item.held or not is_closed(item.metric, item.period, locks.get(item.counter_key), now):
            kept.append(item)
            continue
        if item.metric.late_policy.value == "reject":
            _reject(
                results[item.index],
                EventRejected(
                    "the event's billing period is closed and the metric's latePolicy is reject",
                    code="period_closed",
                    field="ts",
                ),
            )
            continue
        customer = uow.customers.get(item.event.customer_ref)
        spec = spec_for(item.metric, customer)
        item.late_target = current_open_period(uow, item.metric, spec, item.event.customer_ref, now)
        results[item.index].late_after_close = True
        kept.append(item)
    return kept


def _insert(
    uow: IngestUnitOfWork, fresh: list[_Prepared], slots: _Slots, outcome: IngestOutcome
) -> list[_Prepared]:
    rows = [
        {
            "idempotency_key": p.event.idempotency_key,
            "metric": p.event.metric,
            "customer_ref": p.event.customer_ref,
            "quantity": p.event.quantity,
            "ts_us": to_micros(p.event.ts),
            "received_us": to_micros(slots.received_at[p.index]),
            "resource_id": p.event.resource_id,
            "meta": p.event.meta_json,
            "fingerprint": p.event.fingerprint,
            "late": False,
            "late_after_close": p.late_target is not None,
            "voided_us": None,
            "request_id": slots.request_ids[p.index],
            "backfill_id": p.event.backfill_id,
        }
        for p in fresh
    ]
    inserted_keys = uow.events.insert_new(rows)
    existing = [p for p in fresh if p.event.idempotency_key not in inserted_keys]
    if existing:
        stored = uow.events.fingerprints([p.event.idempotency_key for p in existing])
        for item in existing:
            result = outcome.results[item.index]
            result.late_after_close = False
            if stored.get(item.event.idempotency_key) == item.event.fingerprint:
                result.status = DUPLICATE
            else:
                _mark_conflict(result)
    inserted = [p for p in fresh if p.event.idempotency_key in inserted_keys]
    for item in inserted:
        outcome.results[item.index].status = ACCEPTED
    return inserted


def _count(
    uow: IngestUnitOfWork,
    inserted: list[_Prepared],
    now: datetime,
    outcome: IngestOutcome,
    actors: Sequence[str],
) -> None:
    counting = [p for p in inserted if p.counts]
    if not counting:
        return
    periods: dict[CounterKey, int] = {}
    for item in counting:
        periods[item.counter_key] = to_micros(item.period.end)
        if item.late_target is not None:
            periods[_target_key(item)] = to_micros(item.late_target.end)
    new_uniques = uow.counters.add_uniques(
        [(*p.counter_key, p.unique) for p in counting if p.unique is not None]
    )
    counters = uow.counters.lock(periods, to_micros(now))
    late_keys, adjustments = [], []
    for item in counting:
        unique_key = (*item.counter_key, item.unique) if item.unique is not None else None
        is_new = unique_key in new_uniques
        if is_new:
            new_uniques.discard(unique_key)
        counter = counters[item.counter_key]
        before = counter.state.aggregate(item.metric.aggregation)
        late = counter.state.apply(
            Contribution(item.value, to_micros(item.event.ts), item.event.idempotency_key, is_new)
        )
        if late:
            late_keys.append(item.event.idempotency_key)
            outcome.results[item.index].late = True
        if item.late_target is not None:
            effect = value_delta(before, counter.state.aggregate(item.metric.aggregation))
            adjustments.append(
                _book_late(
                    counter, counters[_target_key(item)], item, effect, now, actors[item.index]
                )
            )
    uow.counters.save(counters.values(), to_micros(now))
    uow.events.mark_late(late_keys)
    uow.adjustments.add_many(adjustments)
    outcome.touched.update(counters)


def _target_key(item: _Prepared) -> CounterKey:
    assert item.late_target is not None
    return (item.metric.code, item.event.customer_ref, to_micros(item.late_target.start))


def _book_late(
    source: StoredCounter,
    target: StoredCounter,
    item: _Prepared,
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
