"""What closing or reverting a backfill session does to the counters.

The counters stay a cache of the ledger: a session's events count exactly when the session
is ``closed`` (``EventFilter.only_counting``), and every change to a period that is already
closed is moved to the customer's open period as an adjustment (the row a rebuild re-books),
exactly as a late event's effect is (DESIGN §2, late events). Then the affected customers'
counters are rebuilt from the ledger, so live and rebuilt counters agree by construction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.counters import value_delta
from stripemeter_server.domain.errors import ConflictError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.periods import Period, PeriodSpec, period_containing
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.alerts.evaluation import evaluate_alerts
from stripemeter_server.service.catalog.definitions import current_open_period, is_closed, spec_for
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.service.ports.counters import CounterKey
from stripemeter_server.service.usage.reads import fold_events


@dataclass(slots=True)
class EffectReport:
    """What a close or revert did; stored on the session as its report."""

    events: int = 0
    customers: int = 0
    periods: int = 0
    closed_periods: int = 0
    voided: int = 0
    moved: list[AdjustmentRecord] = field(default_factory=list)
    touched: list[CounterKey] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The JSON-able part (counts and the adjustments booked forward)."""
        return {
            "events": self.events,
            "customers": self.customers,
            "periods": self.periods,
            "closedPeriods": self.closed_periods,
            "voided": self.voided,
            "adjustments": [m.adjustment_id for m in self.moved],
        }


def touched_periods(
    uow: UnitOfWork, session: BackfillRecord, metric: Metric
) -> dict[CounterKey, Period]:
    """Each counter the session's live (non-void) events fall in, with its period."""
    specs: dict[str, PeriodSpec] = {}
    touched: dict[CounterKey, Period] = {}
    flt = EventFilter(metric=metric.code, backfill_id=session.backfill_id, include_void=False)
    records = uow.customers
    for event in uow.events.stream(flt):
        spec = specs.get(event.customer_ref)
        if spec is None:
            spec = spec_for(metric, records.get(event.customer_ref))
            specs[event.customer_ref] = spec
        period = period_containing(spec, from_micros(event.ts_us))
        touched.setdefault((metric.code, event.customer_ref, to_micros(period.start)), period)
    return touched


def count_session(
    uow: UnitOfWork, session: BackfillRecord, metric: Metric, actor: str, now: datetime
) -> EffectReport:
    """Make the session's events count. Call with the session row locked, before it is saved
    as ``closed``; the caller saves it. Closed periods follow the metric's ``latePolicy``."""
    touched = touched_periods(uow, session, metric)
    report = _report(uow, session, touched)
    for key, period in _closed(uow, metric, touched, now):
        report.closed_periods += 1
        if metric.late_policy.value == "reject":
            report.voided += uow.events.flag_backfill_range(
                session.backfill_id, key[1], period, voided_us=to_micros(now)
            )
            continue
        after = _aggregate(uow, metric, key[1], period, include=session.backfill_id)
        _move(uow, metric, key, after, session, "backfill_close", actor, now, report)
        uow.events.flag_backfill_range(session.backfill_id, key[1], period, late_after_close=True)
    return report


def uncount_session(
    uow: UnitOfWork, session: BackfillRecord, metric: Metric, actor: str, now: datetime
) -> EffectReport:
    """Make a closed session's events stop counting; the caller saves it as ``reverted``.

    A period closed since keeps its frozen value: the removal is booked on the open period
    (``latePolicy: adjust``) or the revert is refused (``reject``)."""
    touched = touched_periods(uow, session, metric)
    report = _report(uow, session, touched)
    closed = list(_closed(uow, metric, touched, now))
    if closed and metric.late_policy.value == "reject":
        raise ConflictError(
            f"the session has events in {len(closed)} closed period(s) and metric "
            f"{metric.code!r} has latePolicy reject; nothing was changed",
            code="period_closed",
            field="id",
        )
    for key, period in closed:
        report.closed_periods += 1
        after = _aggregate(uow, metric, key[1], period, exclude=session.backfill_id)
        _move(uow, metric, key, after, session, "backfill_revert", actor, now, report)
    return report


def refresh(uow: UnitOfWork, metric: Metric, report: EffectReport, now: datetime) -> None:
    """Rebuild the affected customers from the ledger, then let alerts see the new values.

    Call after the session is saved with its new status (the rebuild reads it)."""
    keys = set(report.touched) | {
        (m.metric, m.customer_ref, m.period_start_us) for m in report.moved
    }
    for customer_ref in sorted({c for _, c, _ in keys}):
        rebuild_metric(uow, metric, customer_ref=customer_ref, now_us=to_micros(now))
    evaluate_alerts(uow, keys, now)


def _report(
    uow: UnitOfWork, session: BackfillRecord, touched: dict[CounterKey, Period]
) -> EffectReport:
    held, voided = uow.events.backfill_tallies([session.backfill_id]).get(
        session.backfill_id, (0, 0)
    )
    return EffectReport(
        events=held - voided,
        customers=len({c for _, c, _ in touched}),
        periods=len(touched),
        touched=sorted(touched),
    )


def _closed(
    uow: UnitOfWork, metric: Metric, touched: dict[CounterKey, Period], now: datetime
) -> Iterable[tuple[CounterKey, Period]]:
    locks = uow.period_closes.find_many(list(touched))
    for key in sorted(touched):
        if is_closed(metric, touched[key], locks.get(key), now):
            yield key, touched[key]


def _aggregate(
    uow: UnitOfWork,
    metric: Metric,
    customer_ref: str,
    period: Period,
    *,
    include: str | None = None,
    exclude: str | None = None,
) -> Decimal | None:
    """The period's aggregate from the ledger, with one session's events added or removed."""
    window = EventFilter(
        metric=metric.code,
        customer_ref=customer_ref,
        ts_from_us=to_micros(period.start),
        ts_to_us=to_micros(period.end),
        only_counting=True,
    )
    events = [e for e in uow.events.stream(window) if exclude is None or e.backfill_id != exclude]
    if include is not None:
        extra = EventFilter(
            metric=metric.code,
            customer_ref=customer_ref,
            ts_from_us=window.ts_from_us,
            ts_to_us=window.ts_to_us,
            include_void=False,
            backfill_id=include,
        )
        events.extend(uow.events.stream(extra))
    return fold_events(metric, events).aggregate(metric.aggregation)


def _move(
    uow: UnitOfWork,
    metric: Metric,
    key: CounterKey,
    after: Decimal | None,
    session: BackfillRecord,
    reason: str,
    actor: str,
    now: datetime,
    report: EffectReport,
) -> None:
    """Book a closed period's change on the customer's open period (its value stays frozen)."""
    counter = uow.counters.get(key)
    before = counter.state.aggregate(metric.aggregation) if counter else None
    effect = value_delta(before, after)
    if effect == 0:
        return
    customer_ref = key[1]
    spec = spec_for(metric, uow.customers.get(customer_ref))
    target = current_open_period(uow, metric, spec, customer_ref, now)
    record = AdjustmentRecord(
        adjustment_id=f"adj_{uuid.uuid4().hex[:24]}",
        metric=metric.code,
        customer_ref=customer_ref,
        period_start_us=to_micros(target.start),
        delta=effect,
        reason=reason,
        note=f"backfill {session.backfill_id}",
        actor=actor,
        status="approved",
        event_key=None,
        source_period_start_us=key[2],
        reverts=None,
        created_us=to_micros(now),
    )
    uow.adjustments.add_many([record])
    report.moved.append(record)
