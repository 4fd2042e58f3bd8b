"""Corrections with an audit trail: period close (invoice lock), adjustments, voids."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.decimals import add
from stripemeter_server.domain.errors import ConflictError, NotFoundError
from stripemeter_server.domain.periods import Period, period_containing
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.alerts.evaluation import evaluate_alerts
from stripemeter_server.service.catalog.definitions import is_closed, spec_for
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.corrections.commands import NewAdjustment, adjustment_command
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord, PeriodClose
from stripemeter_server.service.corrections.ports.unit_of_work import (
    CorrectionsUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.service.operations import audit


def close_period(
    uow: UnitOfWork,
    customer_ref: str,
    metric_code: str,
    at: datetime,
    now: datetime,
    reason: str = "manual",
) -> PeriodClose:
    """Close the period containing ``at`` early and freeze its value (idempotent)."""
    metric = get_metric(uow, metric_code)
    period = period_containing(spec_for(metric, uow.customers.get(customer_ref)), at)
    key = (metric_code, customer_ref, to_micros(period.start))
    existing = uow.period_closes.find_many([key]).get(key)
    if existing is not None:
        return existing
    counter = uow.counters.get(key)
    value = counter.state.value(metric.aggregation) if counter else None
    lock = PeriodClose(
        metric_code, customer_ref, key[2], to_micros(period.end), reason, value, to_micros(now)
    )
    uow.period_closes.add(lock)
    audit.record(
        uow,
        now,
        "period.close",
        "period",
        f"{metric_code}/{customer_ref}/{key[2]}",
        after={
            "reason": reason,
            "value": None if value is None else str(value),
            "periodStart": format_timestamp(period.start),
        },
    )
    return lock


def _open_period(
    uow: UnitOfWork, metric_code: str, customer_ref: str, at: datetime, now: datetime
) -> tuple[Period, tuple[str, str, int]]:
    metric = get_metric(uow, metric_code)
    period = period_containing(spec_for(metric, uow.customers.get(customer_ref)), at)
    key = (metric_code, customer_ref, to_micros(period.start))
    if is_closed(metric, period, uow.period_closes.find_many([key]).get(key), now):
        raise ConflictError(
            "that billing period is closed; book the correction on an open one",
            code="period_closed",
            field="periodStart",
        )
    return period, key


def create_adjustment(
    uow: UnitOfWork,
    command: NewAdjustment,
    *,
    actor: str,
    now: datetime,
    reverts: str | None = None,
) -> AdjustmentRecord:
    """Book ``command`` on its (open) period, or, in four-eyes mode, hold it pending."""
    metric_code, customer_ref = command.metric, command.customer_ref
    period, key = _open_period(uow, metric_code, customer_ref, command.at or now, now)
    pending = uow.approvals.four_eyes()  # four-eyes: counts once a second key approves
    record = AdjustmentRecord(
        adjustment_id=f"adj_{uuid.uuid4().hex[:24]}",
        metric=metric_code,
        customer_ref=customer_ref,
        period_start_us=key[2],
        delta=command.delta,
        reason=command.reason,
        note=command.note,
        actor=actor,
        status="pending" if pending else "approved",
        event_key=None,
        source_period_start_us=None,
        reverts=reverts,
        created_us=to_micros(now),
    )
    uow.adjustments.add_many([record])
    if not pending:
        book_on_counter(uow, key, period, command.delta, now)
    audit.record(
        uow,
        now,
        "adjustment.revert" if reverts else "adjustment.create",
        "adjustment",
        record.adjustment_id,
        after=adjustment_state(record),
    )
    return record


def book_on_counter(
    uow: UnitOfWork, key: tuple[str, str, int], period: Period, delta: Decimal, now: datetime
) -> None:
    """Add an approved adjustment's delta to its (open) period's counter."""
    counter = uow.counters.lock({key: to_micros(period.end)}, to_micros(now))[key]
    counter.state.adjustments = add(counter.state.adjustments, delta)
    uow.counters.save([counter], to_micros(now))
    evaluate_alerts(uow, [key], now)  # an adjustment can cross a threshold too


def open_period_of(
    uow: UnitOfWork, record: AdjustmentRecord, now: datetime
) -> tuple[Period, tuple[str, str, int]]:
    """The adjustment's period and counter key; 409 ``period_closed`` once it has closed."""
    return _open_period(
        uow, record.metric, record.customer_ref, from_micros(record.period_start_us), now
    )


def adjustment_state(record: AdjustmentRecord) -> dict[str, object]:
    return {
        "metric": record.metric,
        "customerRef": record.customer_ref,
        "periodStart": format_timestamp(from_micros(record.period_start_us)),
        "delta": str(record.delta),
        "reason": record.reason,
        "note": record.note,
        "status": record.status,
        "reverts": record.reverts,
    }


def revert_adjustment(
    uow: UnitOfWork, adjustment_id: str, actor: str, now: datetime
) -> AdjustmentRecord:
    """Append the negative twin (adjustments are never edited)."""
    original = uow.adjustments.get(adjustment_id)
    if original is None:
        raise NotFoundError(
            f"adjustment {adjustment_id!r} does not exist", code="adjustment_not_found", field="id"
        )
    if original.status != "approved":
        raise ConflictError(
            f"only an approved adjustment can be reverted (this one is {original.status}); "
            "reject a pending one instead",
            code="not_approved",
            field="id",
        )
    if any(r.status != "rejected" for r in uow.adjustments.find(reverts=adjustment_id)):
        raise ConflictError(
            "this adjustment is already reverted", code="already_reverted", field="id"
        )
    if original.reverts is not None:
        raise ConflictError("a revert cannot itself be reverted", code="invalid_revert", field="id")
    command = adjustment_command(
        metric=original.metric,
        customer_ref=original.customer_ref,
        delta_raw=-original.delta,
        reason="revert",
        note=f"reverts {adjustment_id}",
        at=from_micros(original.period_start_us),
    )
    return create_adjustment(uow, command, actor=actor, now=now, reverts=adjustment_id)


def void_event(uow: UnitOfWork, key: str, now: datetime) -> None:
    """Mark an event void (it stays in the ledger) and recompute its counter without it."""
    event = uow.events.get(key)
    if event is None:
        raise NotFoundError(
            f"no event with idempotencyKey {key!r}", code="event_not_found", field="idempotencyKey"
        )
    if event.voided_us is not None:
        return
    _open_period(uow, event.metric, event.customer_ref, from_micros(event.ts_us), now)
    uow.events.void(key, to_micros(now))
    metric = get_metric(uow, event.metric)
    rebuild_metric(uow, metric, customer_ref=event.customer_ref, now_us=to_micros(now))
    audit.record(
        uow,
        now,
        "event.void",
        "event",
        key,
        before={"metric": event.metric, "customerRef": event.customer_ref, "voided": False},
        after={"voided": True},
    )


def list_adjustments(
    uow: UnitOfWork, *, metric: str | None, customer_ref: str | None
) -> list[AdjustmentRecord]:
    return uow.adjustments.find(metric=metric, customer_ref=customer_ref)
