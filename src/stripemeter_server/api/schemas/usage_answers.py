"""Usage answers on the wire: current totals, billing periods, projections, windows, history
and period closes, rendered here from the use cases' records through the Structs each
route's ``responses=`` documents (ADR 0035). The portal renders its reads through the same
declarations, so the two cannot drift."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from stripemeter_server.api.schemas.history_answers import HISTORY_ANSWER as HISTORY_ANSWER
from stripemeter_server.api.schemas.history_answers import history_page as history_page
from stripemeter_server.api.serialize import bound, dec, money, ts
from stripemeter_server.api.wire import (
    UNSET,
    DecimalText,
    Instant,
    StrictBody,
    Unset,
    render,
    response,
)
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.usage.projection import MetricProjection, Projection, Totals
from stripemeter_server.service.usage.reads import PeriodUsage, WindowAggregates

Answers = dict[int | str, dict[str, Any]]


class HeldBackfill(StrictBody):
    """A backfill session whose events the values do not include yet."""

    id: str
    metric: str
    status: str


class CostLine(StrictBody):
    description: str
    quantity: DecimalText | None
    unit_amount: DecimalText | None
    amount: DecimalText | None


class Cost(StrictBody):
    """A priced amount with its explainable lines."""

    currency: str
    amount: DecimalText | None
    lines: list[CostLine]


class PeriodAnswer(StrictBody):
    """A metric's billing period: its value, its ledger state and, once closed, its lock."""

    metric: str
    aggregation: str
    unit: str | None
    value: DecimalText | None
    period_start: Instant | None
    period_end: Instant | None
    status: str
    event_count: int
    adjustments: DecimalText | None
    watermark: Instant | None
    late_events: int
    closed_at: Instant | Unset = UNSET
    close_reason: str | Unset = UNSET
    final_value: DecimalText | Unset | None = UNSET


class CurrentMetric(PeriodAnswer, kw_only=True):
    cost: Cost | None


class CurrentUsage(StrictBody):
    customer_ref: str
    as_of: Instant | None
    held_backfills: list[HeldBackfill]
    metrics: list[CurrentMetric]


class PeriodPage(StrictBody):
    customer_ref: str
    metric: str
    held_backfills: list[HeldBackfill]
    data: list[PeriodAnswer]
    next_from: Instant | None


class MetricProjectionAnswer(StrictBody):
    metric: str
    aggregation: str
    unit: str | None
    period_start: Instant | None
    period_end: Instant | None
    currency: str | None
    current_quantity: DecimalText | None
    projected_quantity: DecimalText | None
    credited_quantity: DecimalText | None
    current_cost: DecimalText | None
    projected_cost: DecimalText | None
    credits: DecimalText | None
    projected_cost_lines: list[CostLine] | None


class CurrencyTotal(StrictBody):
    currency: str
    current_total: DecimalText | None
    subtotal: DecimalText | None
    projected_subtotal: DecimalText | None
    credits: DecimalText | None
    total: DecimalText | None


class ProjectionAnswer(StrictBody):
    """Current and projected quantity and cost; the flat totals only when one currency."""

    customer_ref: str
    as_of: Instant | None
    period_start: Instant | None
    period_end: Instant | None
    currency: str | None
    metrics: list[MetricProjectionAnswer]
    current_total: DecimalText | None
    subtotal: DecimalText | None
    projected_subtotal: DecimalText | None
    credits: DecimalText | None
    total: DecimalText | None
    totals: list[CurrencyTotal]


class WindowValue(StrictBody):
    count: int
    sum: DecimalText | None
    max: DecimalText | None
    min: DecimalText | None
    latest: DecimalText | None
    unique_count: int
    avg: DecimalText | None
    billable: DecimalText | None


class WindowAnswer(StrictBody):
    customer_ref: str
    metric: str
    start: Instant | None
    end: Instant | None
    source: str
    value: WindowValue


class ClosedPeriod(StrictBody):
    customer_ref: str
    metric: str
    period_start: Instant | None
    period_end: Instant | None
    status: str
    reason: str
    final_value: DecimalText | None
    closed_at: Instant | None


CURRENT_ANSWER: Answers = {200: response(CurrentUsage, "Every metric's open period")}
PROJECTION_ANSWER: Answers = {200: response(ProjectionAnswer, "The projection")}
PERIODS_ANSWER: Answers = {200: response(PeriodPage, "One page of billing periods")}
QUERY_ANSWER: Answers = {200: response(WindowAnswer, "Every aggregate over the window")}
CLOSE_ANSWER: Answers = {200: response(ClosedPeriod, "The closed period and its value")}


def held(sessions: list[BackfillRecord]) -> list[HeldBackfill]:
    return [HeldBackfill(id=s.backfill_id, metric=s.metric, status=s.status) for s in sessions]


def _period_fields(item: PeriodUsage) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "metric": item.metric.code,
        "aggregation": item.metric.aggregation.value,
        "unit": item.metric.unit,
        "value": dec(item.value),
        "period_start": bound(item.period.start),
        "period_end": bound(item.period.end),
        "status": item.status,
        "event_count": item.state.count,
        "adjustments": dec(item.state.adjustments),
        "watermark": ts(item.state.watermark_us),
        "late_events": item.state.late_count,
    }
    if item.lock is not None:
        fields["closed_at"] = ts(item.lock.closed_us)
        fields["close_reason"] = item.lock.reason
        fields["final_value"] = dec(item.lock.final_value)
    return fields


def _lines(cost: Quote) -> list[CostLine]:
    return [
        CostLine(
            description=line.description,
            quantity=dec(line.quantity),
            unit_amount=dec(line.unit_amount),
            amount=money(line.amount),
        )
        for line in cost.lines
    ]


def cost(found: Quote | None) -> Cost | None:
    """``None`` for an unpriced metric."""
    if found is None:
        return None
    return Cost(currency=found.currency, amount=money(found.amount), lines=_lines(found))


def current_view(
    customer_ref: str,
    now: datetime,
    found: list[PeriodUsage],
    costs: Mapping[str, Quote | None],
    sessions: list[BackfillRecord],
) -> dict[str, Any]:
    return render(current_answer(customer_ref, now, found, costs, sessions))


def current_answer(
    customer_ref: str,
    now: datetime,
    found: list[PeriodUsage],
    costs: Mapping[str, Quote | None],
    sessions: list[BackfillRecord],
) -> CurrentUsage:
    """The answer as its Struct (the fast path encodes it as is, ADR 0967)."""
    metrics = [
        CurrentMetric(**_period_fields(item), cost=cost(costs.get(item.metric.code)))
        for item in found
    ]
    return CurrentUsage(
        customer_ref=customer_ref, as_of=ts(now), held_backfills=held(sessions), metrics=metrics
    )


def period_page(
    customer_ref: str,
    metric: str,
    sessions: list[BackfillRecord],
    shown: list[PeriodUsage],
    next_from: datetime | None,
) -> dict[str, Any]:
    return render(
        PeriodPage(
            customer_ref=customer_ref,
            metric=metric,
            held_backfills=held(sessions),
            data=[PeriodAnswer(**_period_fields(item)) for item in shown],
            next_from=ts(next_from),
        )
    )


def _metric_projection(m: MetricProjection) -> MetricProjectionAnswer:
    return MetricProjectionAnswer(
        metric=m.usage.metric.code,
        aggregation=m.line.aggregation,
        unit=m.usage.metric.unit,
        period_start=ts(m.usage.period.start),
        period_end=ts(m.usage.period.end),
        currency=m.price.currency if m.price else None,
        current_quantity=dec(m.current_quantity),
        projected_quantity=dec(m.projected_quantity),
        credited_quantity=dec(m.credited_quantity),
        current_cost=money(m.current_cost.amount) if m.current_cost else None,
        projected_cost=money(m.projected_cost.amount) if m.projected_cost else None,
        credits=money(m.credit_amount),
        projected_cost_lines=_lines(m.projected_cost) if m.projected_cost else None,
    )


def _total(t: Totals) -> CurrencyTotal:
    return CurrencyTotal(
        currency=t.currency,
        current_total=money(t.current_total),
        subtotal=money(t.subtotal),
        projected_subtotal=money(t.projected_subtotal),
        credits=money(t.credits),
        total=money(t.total),
    )


def projection_view(found: Projection) -> dict[str, Any]:
    one = found.totals[0] if len(found.totals) == 1 else None
    return render(
        ProjectionAnswer(
            customer_ref=found.customer_ref,
            as_of=ts(found.as_of),
            period_start=ts(found.period_start),
            period_end=ts(found.period_end),
            currency=one.currency if one else None,
            metrics=[_metric_projection(m) for m in found.metrics],
            current_total=money(one.current_total) if one else None,
            subtotal=money(one.subtotal) if one else None,
            projected_subtotal=money(one.projected_subtotal) if one else None,
            credits=money(one.credits) if one else None,
            total=money(one.total) if one else None,
            totals=[_total(t) for t in found.totals],
        )
    )


def window_view(
    customer_ref: str, metric: str, start: datetime, end: datetime, found: WindowAggregates
) -> dict[str, Any]:
    value = WindowValue(
        count=found.count,
        sum=dec(found.sum),
        max=dec(found.max),
        min=dec(found.min),
        latest=dec(found.latest),
        unique_count=found.unique_count,
        avg=dec(found.avg),
        billable=dec(found.value),
    )
    return render(
        WindowAnswer(
            customer_ref=customer_ref,
            metric=metric,
            start=ts(start),
            end=ts(end),
            source="counter" if found.from_counter else "ledger",
            value=value,
        )
    )


def closed_view(lock: PeriodClose) -> dict[str, Any]:
    return render(
        ClosedPeriod(
            customer_ref=lock.customer_ref,
            metric=lock.metric,
            period_start=ts(lock.period_start_us),
            period_end=ts(lock.period_end_us),
            status="closed",
            reason=lock.reason,
            final_value=dec(lock.final_value),
            closed_at=ts(lock.closed_us),
        )
    )


def period_json(item: PeriodUsage) -> dict[str, Any]:
    """One period as the API shows it (the dashboard shows the same)."""
    return render(PeriodAnswer(**_period_fields(item)))


def cost_json(found: Quote | None) -> dict[str, Any] | None:
    priced = cost(found)
    return None if priced is None else render(priced)


projection_json = projection_view
