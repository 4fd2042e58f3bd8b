"""Request and response models of the SDK (plain dataclasses, decimals as ``Decimal``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .idempotency import Quantity, Timestamp, parse_ts, stamp_now, to_decimal
from .usage_results import AggregateValues, MetricUsage, Projection, Usage, UsageQueryResult

__all__ = [
    "AggType",
    "AggregateValues",
    "Event",
    "EventResult",
    "IngestResult",
    "Metric",
    "MetricSchema",
    "MetricUsage",
    "PeriodType",
    "Projection",
    "Usage",
    "UsageQueryResult",
]


class AggType(enum.StrEnum):
    """Aggregation of a metric. Values are the server's names; Unimeter's names are members."""

    COUNT = "count"
    SUM = "sum"
    MAX = "max"
    MIN = "min"
    LATEST = "latest"
    COUNT_UNIQUE = "unique_count"
    AVG = "avg"


class PeriodType(enum.StrEnum):
    """Billing period of a metric. ``CALENDAR`` (= ``MONTH``) is anchored on a day."""

    CALENDAR = "month"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    HOUR = "hour"


class Event:
    """One usage event.

    Native names: ``Event(metric, customer_ref, quantity=1, ts=None, resource_id=None,
    meta=None, idempotency_key=None, backfill_id=None)`` (``backfill_id``: import the event
    inside that open backfill session; it counts once the session is closed). Unimeter
    names are accepted as keywords: ``Event(account_id=…, metric_code=…, value=…,
    timestamp=…)`` (``account_id`` becomes the ``customer_ref`` as a string).

    ``ts`` defaults to the moment the ``Event`` is created (UTC, microseconds, strictly
    increasing within the process), so sending the same ``Event`` object twice is
    deduplicated by the server.
    """

    __slots__ = (
        "backfill_id",
        "customer_ref",
        "idempotency_key",
        "meta",
        "metric",
        "quantity",
        "resource_id",
        "ts",
    )

    metric: str
    customer_ref: str
    quantity: Decimal
    ts: datetime
    resource_id: str | None
    meta: dict[str, Any] | None
    idempotency_key: str | None
    backfill_id: str | None

    def __init__(
        self,
        metric: str | None = None,
        customer_ref: str | None = None,
        quantity: Quantity | None = None,
        ts: Timestamp | None = None,
        resource_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        backfill_id: str | None = None,
        *,
        account_id: object = None,
        metric_code: str | None = None,
        value: Quantity | None = None,
        timestamp: Timestamp | None = None,
    ) -> None:
        metric = _one("metric", metric, "metric_code", metric_code)
        ref = _one("customer_ref", customer_ref, "account_id", account_id)
        qty = _one("quantity", quantity, "value", value)
        when = _one("ts", ts, "timestamp", timestamp)
        if not metric or not isinstance(metric, str):
            raise ValueError("an event needs a metric (metric= or metric_code=)")
        if ref is None or ref == "":
            raise ValueError("an event needs a customer (customer_ref= or account_id=)")
        self.metric = metric
        self.customer_ref = str(ref)
        self.quantity = to_decimal(1 if qty is None else qty)
        self.ts = stamp_now() if when is None else parse_ts(when)
        self.resource_id = resource_id
        self.meta = dict(meta) if meta else None
        self.idempotency_key = idempotency_key
        self.backfill_id = backfill_id

    def __repr__(self) -> str:
        return (
            f"Event(metric={self.metric!r}, customer_ref={self.customer_ref!r}, "
            f"quantity={self.quantity!r}, ts={self.ts.isoformat()!r}, "
            f"resource_id={self.resource_id!r}, meta={self.meta!r}, "
            f"idempotency_key={self.idempotency_key!r}, backfill_id={self.backfill_id!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    # Unimeter-style read access.
    @property
    def account_id(self) -> str:
        return self.customer_ref

    @property
    def metric_code(self) -> str:
        return self.metric

    @property
    def value(self) -> Decimal:
        return self.quantity


def _one(name: str, native: Any, alias_name: str, alias: Any) -> Any:
    if native is not None and alias is not None:
        raise TypeError(f"pass either {name}= or {alias_name}=, not both")
    return native if native is not None else alias


@dataclass(frozen=True, slots=True)
class MetricSchema:
    """A metric definition for :meth:`metrics.create <stripemeter.client.Metrics.create>`.

    ``billing_cycle_day`` is the month anchor (1..31) used when ``period_type`` is
    ``CALENDAR``; other fields map one-to-one to the server's metric body.
    """

    code: str
    agg_type: AggType | str = AggType.COUNT
    period_type: PeriodType | str = PeriodType.CALENDAR
    billing_cycle_day: int = 1
    display_name: str | None = None
    unit: str | None = None
    value_property: str | None = None
    unique_property: str | None = None
    filter: Mapping[str, Any] | None = None
    timezone: str = "UTC"
    lateness_window: str | None = None
    late_policy: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``POST /v1/metrics`` body."""
        agg = self.agg_type.value if isinstance(self.agg_type, AggType) else str(self.agg_type)
        ptype = (
            self.period_type.value
            if isinstance(self.period_type, PeriodType)
            else str(self.period_type)
        )
        period: dict[str, Any] = {"type": ptype, "timezone": self.timezone}
        if ptype == "month":
            period["anchorDay"] = self.billing_cycle_day
        body: dict[str, Any] = {"code": self.code, "aggregation": agg, "period": period}
        optional = {
            "displayName": self.display_name,
            "unit": self.unit,
            "valueProperty": self.value_property,
            "uniqueProperty": self.unique_property,
            "filter": dict(self.filter) if self.filter is not None else None,
            "latenessWindow": self.lateness_window,
            "latePolicy": self.late_policy,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric as stored by the server. ``raw`` is the full JSON object."""

    code: str
    aggregation: str
    period_type: str | None
    anchor_day: int | None
    timezone: str | None
    display_name: str | None
    unit: str | None
    value_property: str | None
    unique_property: str | None
    filter: dict[str, Any] | None
    lateness_window: str | None
    late_policy: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Metric:
        period = data.get("period") or {}
        return cls(
            code=str(data["code"]),
            aggregation=str(data.get("aggregation")),
            period_type=period.get("type"),
            anchor_day=period.get("anchorDay"),
            timezone=period.get("timezone"),
            display_name=data.get("displayName"),
            unit=data.get("unit"),
            value_property=data.get("valueProperty"),
            unique_property=data.get("uniqueProperty"),
            filter=data.get("filter"),
            lateness_window=data.get("latenessWindow"),
            late_policy=data.get("latePolicy"),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class EventResult:
    """The server's verdict on one event of a batch."""

    index: int
    idempotency_key: str | None
    status: str  # accepted | duplicate | conflict | rejected
    error_code: str | None = None
    error_message: str | None = None
    error_field: str | None = None
    late: bool = False

    @property
    def stored(self) -> bool:
        """True when the event is in the ledger: newly ``accepted`` or a ``duplicate``."""
        return self.status in ("accepted", "duplicate")

    @classmethod
    def from_json(cls, data: Mapping[str, Any], index_offset: int = 0) -> EventResult:
        error = data.get("error") or {}
        return cls(
            index=int(data.get("index", 0)) + index_offset,
            idempotency_key=data.get("idempotencyKey"),
            status=str(data.get("status")),
            error_code=error.get("code"),
            error_message=error.get("message"),
            error_field=error.get("field"),
            late=bool(data.get("late", False)),
        )


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Result of ``ingest``/``track_batch``: counts plus one :class:`EventResult` per event
    (in the order the events were given; batches over the server limit are split and merged).
    """

    accepted: int
    duplicates: int
    rejected: int
    conflicts: int
    results: list[EventResult]
    request_ids: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Events now in the ledger (accepted + duplicates)."""
        return self.accepted + self.duplicates

    @property
    def failed(self) -> list[EventResult]:
        """Results of events that were not stored (rejected or conflict)."""
        return [r for r in self.results if not r.stored]

    @classmethod
    def from_json(cls, data: Mapping[str, Any], index_offset: int = 0) -> IngestResult:
        results = [EventResult.from_json(r, index_offset) for r in data.get("results", [])]
        request_id = data.get("requestId")
        return cls(
            accepted=int(data.get("accepted", 0)),
            duplicates=int(data.get("duplicates", 0)),
            rejected=int(data.get("rejected", 0)),
            conflicts=int(data.get("conflicts", sum(r.status == "conflict" for r in results))),
            results=results,
            request_ids=[str(request_id)] if request_id else [],
        )

    @classmethod
    def merge(cls, parts: list[IngestResult]) -> IngestResult:
        return cls(
            accepted=sum(p.accepted for p in parts),
            duplicates=sum(p.duplicates for p in parts),
            rejected=sum(p.rejected for p in parts),
            conflicts=sum(p.conflicts for p in parts),
            results=[r for p in parts for r in p.results],
            request_ids=[i for p in parts for i in p.request_ids],
        )
