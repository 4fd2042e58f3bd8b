"""The server's usage answers as SDK values: live totals, windows, projections.

Decimals stay ``Decimal`` and instants ``datetime``; each value keeps the server's whole
JSON body in ``raw`` so a field added server-side is readable before the SDK models it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .idempotency import parse_ts, to_decimal

__all__ = ["AggregateValues", "MetricUsage", "Projection", "Usage", "UsageQueryResult"]


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    return to_decimal(value if not isinstance(value, float) else str(value))


def instant_or_none(value: Any) -> datetime | None:
    return None if value is None else parse_ts(value)


@dataclass(frozen=True, slots=True)
class AggregateValues:
    """Every aggregate of a window. ``max/min/latest/avg`` are ``None`` on an empty window."""

    count: int
    sum: Decimal | None
    max: Decimal | None
    min: Decimal | None
    latest: Decimal | None
    unique_count: int
    avg: Decimal | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AggregateValues:
        return cls(
            count=int(data.get("count") or 0),
            sum=decimal_or_none(data.get("sum")),
            max=decimal_or_none(data.get("max")),
            min=decimal_or_none(data.get("min")),
            latest=decimal_or_none(data.get("latest")),
            unique_count=int(data.get("uniqueCount") or 0),
            avg=decimal_or_none(data.get("avg")),
        )


@dataclass(frozen=True, slots=True)
class UsageQueryResult:
    """Result of :meth:`query`: the window and all aggregate values in ``value``."""

    customer_ref: str
    metric: str
    start: datetime | None
    end: datetime | None
    value: AggregateValues
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageQueryResult:
        return cls(
            customer_ref=str(data.get("customerRef")),
            metric=str(data.get("metric")),
            start=instant_or_none(data.get("start")),
            end=instant_or_none(data.get("end")),
            value=AggregateValues.from_json(data.get("value") or {}),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class MetricUsage:
    """One metric's value in the customer's current period."""

    metric: str
    aggregation: str | None
    unit: str | None
    value: Decimal | None
    period_start: datetime | None
    period_end: datetime | None
    status: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MetricUsage:
        return cls(
            metric=str(data.get("metric")),
            aggregation=data.get("aggregation"),
            unit=data.get("unit"),
            value=decimal_or_none(data.get("value")),
            period_start=instant_or_none(data.get("periodStart")),
            period_end=instant_or_none(data.get("periodEnd")),
            status=data.get("status"),
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """Result of :meth:`get_usage`: the customer's live totals for every metric."""

    customer_ref: str
    as_of: datetime | None
    metrics: list[MetricUsage]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def __getitem__(self, metric: str) -> MetricUsage:
        for item in self.metrics:
            if item.metric == metric:
                return item
        raise KeyError(metric)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            customer_ref=str(data.get("customerRef")),
            as_of=instant_or_none(data.get("asOf")),
            metrics=[MetricUsage.from_json(m) for m in data.get("metrics") or []],
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Projection:
    """Result of :meth:`get_projection`: totals as ``Decimal``; per-metric lines in ``metrics``
    (the server's JSON objects, unchanged) and the whole body in ``raw``."""

    subtotal: Decimal | None
    projected_subtotal: Decimal | None
    credits: Decimal | None
    total: Decimal | None
    currency: str | None
    as_of: datetime | None
    metrics: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Projection:
        lines = data.get("metrics")
        if lines is None:
            lines = data.get("lines") or []
        return cls(
            subtotal=decimal_or_none(data.get("subtotal")),
            projected_subtotal=decimal_or_none(data.get("projectedSubtotal")),
            credits=decimal_or_none(data.get("credits")),
            total=decimal_or_none(data.get("total")),
            currency=data.get("currency"),
            as_of=instant_or_none(data.get("asOf")),
            metrics=[dict(line) for line in lines],
            raw=dict(data),
        )
