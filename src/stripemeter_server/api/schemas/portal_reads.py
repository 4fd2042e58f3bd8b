"""The portal's reads on the wire: a customer's usage and history in their own (smaller)
shapes, rendered here through the Structs the routes' ``responses=`` document. The other
portal reads answer with the declarations of the features they show (usage's projection,
entitlements, credits, the upcoming invoice, alert rules), so the portal and the API cannot
drift (ADR 0035)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from stripemeter_server.api.schemas.usage_answers import Cost, cost
from stripemeter_server.api.serialize import dec, ts
from stripemeter_server.api.wire import DecimalText, Instant, StrictBody, render, response
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.usage.reads import HistoryPoint, PeriodUsage

Answers = dict[int | str, dict[str, Any]]


class PortalPeriod(StrictBody, kw_only=True):
    """A metric's open period as a customer sees it (no ledger internals)."""

    metric: str
    aggregation: str
    unit: str | None
    value: DecimalText | None
    period_start: Instant | None
    period_end: Instant | None
    status: str


class PortalMetric(PortalPeriod, kw_only=True):
    cost: Cost | None


class PortalUsage(StrictBody):
    customer_ref: str
    as_of: Instant | None
    metrics: list[PortalMetric]


class PortalPoint(StrictBody):
    start: Instant | None
    end: Instant | None
    value: DecimalText | None


class PortalHistory(StrictBody):
    customer_ref: str
    metric: str
    step: str
    next_from: Instant | None
    data: list[PortalPoint]


USAGE_ANSWER: Answers = {200: response(PortalUsage, "Every allowed metric's open period")}
HISTORY_ANSWER: Answers = {200: response(PortalHistory, "One page of time buckets")}


def _period_fields(item: PeriodUsage) -> dict[str, Any]:
    return {
        "metric": item.metric.code,
        "aggregation": item.metric.aggregation.value,
        "unit": item.metric.unit,
        "value": dec(item.value),
        "period_start": ts(item.period.start),
        "period_end": ts(item.period.end),
        "status": item.status,
    }


def usage_json(item: PeriodUsage) -> dict[str, Any]:
    return render(PortalPeriod(**_period_fields(item)))


def usage_view(
    customer_ref: str, now: datetime, found: list[PeriodUsage], costs: Mapping[str, Quote | None]
) -> dict[str, Any]:
    metrics = [
        PortalMetric(**_period_fields(u), cost=cost(costs.get(u.metric.code))) for u in found
    ]
    return render(PortalUsage(customer_ref=customer_ref, as_of=ts(now), metrics=metrics))


def history_view(
    customer_ref: str,
    metric: str,
    step: str,
    points: list[HistoryPoint],
    next_from: datetime | None,
) -> dict[str, Any]:
    data = [PortalPoint(start=ts(p.start), end=ts(p.end), value=dec(p.value)) for p in points]
    return render(
        PortalHistory(
            customer_ref=customer_ref, metric=metric, step=step, next_from=ts(next_from), data=data
        )
    )
