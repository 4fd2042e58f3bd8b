"""Metric definitions: how the events of one metric code aggregate into a billable value.

A metric is parsed from the API's camelCase shape once and then used as an immutable value,
so the ingest path never re-validates it per event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stripemeter_server.domain.decimals import parse_decimal
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import PeriodSpec, PeriodType
from stripemeter_server.domain.timestamps import format_duration, parse_duration


class Aggregation(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MAX = "max"
    MIN = "min"
    LATEST = "latest"
    UNIQUE_COUNT = "unique_count"
    AVG = "avg"


class LatePolicy(StrEnum):
    ADJUST = "adjust"
    REJECT = "reject"


AGGREGATION_ALIASES: Mapping[str, Aggregation] = {
    "COUNT": Aggregation.COUNT,
    "SUM": Aggregation.SUM,
    "MAX": Aggregation.MAX,
    "MIN": Aggregation.MIN,
    "LATEST": Aggregation.LATEST,
    "LAST": Aggregation.LATEST,
    "COUNT_UNIQUE": Aggregation.UNIQUE_COUNT,
    "AVG": Aggregation.AVG,
}

DEFAULT_LATENESS = timedelta(hours=48)
MAX_CODE_LENGTH = 255
MAX_LATENESS = timedelta(days=3660)  # keeps every close time far inside the calendar
MAX_UNIQUE_LENGTH = 512  # the stored distinct value's column width


class MetricValueError(ValueError):
    """An event lacks a usable value for the metric's valueProperty."""


@dataclass(frozen=True, slots=True)
class Metric:
    code: str
    aggregation: Aggregation = Aggregation.SUM
    display_name: str | None = None
    unit: str | None = None
    value_property: str = "quantity"
    unique_property: str = "resourceId"
    filter: tuple[tuple[str, str], ...] = ()
    period: PeriodSpec = field(default_factory=lambda: PeriodSpec(PeriodType.MONTH))
    lateness_window: timedelta = DEFAULT_LATENESS
    late_policy: LatePolicy = LatePolicy.ADJUST

    @property
    def counting_shape(self) -> tuple[object, ...]:
        """What, when changed, invalidates stored counters (they must be rebuilt)."""
        return (
            self.aggregation,
            self.value_property,
            self.unique_property,
            self.filter,
            self.period,
        )

    def matches(self, resource_id: str | None, meta: Mapping[str, Any] | None) -> bool:
        for path, expected_json in self.filter:
            found, actual = lookup(path, resource_id, meta)
            if not found or _canonical(actual) != expected_json:
                return False
        return True

    def value_of(self, quantity: Decimal, meta: Mapping[str, Any] | None) -> Decimal:
        """The number this event contributes (its quantity or a ``meta.<path>`` number)."""
        if self.value_property == "quantity":
            return quantity
        found, raw = lookup(self.value_property, None, meta)
        if not found or raw is None:
            raise MetricValueError(f"{self.value_property} is missing")
        try:
            return parse_decimal(raw)
        except ValueError as exc:
            raise MetricValueError(f"{self.value_property} {exc}") from None

    def measure(
        self,
        quantity: Decimal,
        resource_id: str | None,
        meta: Mapping[str, Any] | None,
        *,
        counted: bool = True,
    ) -> tuple[Decimal, str | None]:
        """What an event contributes: its value, and its distinct key for ``unique_count``.

        Raises ``MetricValueError`` when the event lacks what the metric reads.
        """
        value = quantity if self.aggregation is Aggregation.COUNT else self.value_of(quantity, meta)
        unique = (
            self.unique_key_of(resource_id, meta)
            if counted and self.aggregation is Aggregation.UNIQUE_COUNT
            else None
        )
        return value, unique

    def unique_key_of(self, resource_id: str | None, meta: Mapping[str, Any] | None) -> str:
        found, raw = lookup(self.unique_property, resource_id, meta)
        if not found or raw is None:
            raise MetricValueError(f"{self.unique_property} is missing")
        key = _canonical(raw)
        if len(key) > MAX_UNIQUE_LENGTH:
            raise MetricValueError(
                f"{self.unique_property} is longer than {MAX_UNIQUE_LENGTH} characters"
            )
        return key


def lookup(path: str, resource_id: str | None, meta: Mapping[str, Any] | None) -> tuple[bool, Any]:
    """Resolve ``resourceId`` or ``meta.a.b`` against an event."""
    if path == "resourceId":
        return (resource_id is not None, resource_id)
    if not path.startswith("meta."):
        return (False, None)
    node: Any = meta
    for part in path[5:].split("."):
        if not isinstance(node, Mapping) or part not in node:
            return (False, None)
        node = node[part]
    return (True, node)


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def parse_aggregation(raw: object) -> Aggregation:
    if isinstance(raw, str):
        if raw in AGGREGATION_ALIASES:
            return AGGREGATION_ALIASES[raw]
        try:
            return Aggregation(raw.lower())
        except ValueError:
            pass
    allowed = ", ".join(a.value for a in Aggregation)
    raise ValidationError(
        f"aggregation must be one of {allowed} (or COUNT, SUM, MAX, LATEST, COUNT_UNIQUE)",
        code="invalid_metric",
        field="aggregation",
    )


def metric_from_dict(data: Mapping[str, Any], *, base: Metric | None = None) -> Metric:
    """Build (or, with ``base``, partially update) a metric from its API shape."""
    code = data.get("code", base.code if base else None)
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
        raise ValidationError(
            "code must be a non-empty string of at most 255 characters",
            code="invalid_metric",
            field="code",
        )
    metric = base if base is not None else Metric(code=code)
    changes: dict[str, Any] = {"code": code}
    if "aggregation" in data:
        changes["aggregation"] = parse_aggregation(data["aggregation"])
    for key, attr in (("displayName", "display_name"), ("unit", "unit")):
        if key in data:
            changes[attr] = _optional_string(data[key], key)
    if "valueProperty" in data and data["valueProperty"] is not None:
        changes["value_property"] = _property_path(data["valueProperty"], "valueProperty", False)
    if "uniqueProperty" in data and data["uniqueProperty"] is not None:
        changes["unique_property"] = _property_path(data["uniqueProperty"], "uniqueProperty", True)
    if "filter" in data:
        changes["filter"] = _parse_filter(data["filter"])
    if "period" in data and data["period"] is not None:
        changes["period"] = _parse_period(data["period"], metric.period)
    if "latenessWindow" in data and data["latenessWindow"] is not None:
        changes["lateness_window"] = _lateness(data["latenessWindow"])
    if "latePolicy" in data and data["latePolicy"] is not None:
        try:
            changes["late_policy"] = LatePolicy(data["latePolicy"])
        except ValueError:
            raise ValidationError(
                "latePolicy must be adjust or reject", code="invalid_metric", field="latePolicy"
            ) from None
    return replace(metric, **changes)


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    return {
        "code": metric.code,
        "displayName": metric.display_name,
        "unit": metric.unit,
        "aggregation": metric.aggregation.value,
        "valueProperty": metric.value_property,
        "uniqueProperty": metric.unique_property,
        "filter": {path: json.loads(value) for path, value in metric.filter} or None,
        "period": {
            "type": metric.period.type.value,
            "anchorDay": metric.period.anchor_day,
            "timezone": metric.period.timezone,
        },
        "latenessWindow": format_duration(metric.lateness_window),
        "latePolicy": metric.late_policy.value,
    }


def _optional_string(raw: object, field_name: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > MAX_CODE_LENGTH:
        raise ValidationError(
            f"{field_name} must be a string of at most 255 characters",
            code="invalid_metric",
            field=field_name,
        )
    return raw


def _property_path(raw: object, field_name: str, allow_resource_id: bool) -> str:
    allowed = "resourceId" if allow_resource_id else "quantity"
    if isinstance(raw, str) and (
        raw == allowed or (raw.startswith("meta.") and len(raw) > 5 and ".." not in raw)
    ):
        return raw
    raise ValidationError(
        f'{field_name} must be "{allowed}" or "meta.<path>"',
        code="invalid_metric",
        field=field_name,
    )


def _parse_filter(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ValidationError(
            "filter must be an object of path -> value", code="invalid_metric", field="filter"
        )
    pairs = []
    for path, expected in raw.items():
        if not (path == "resourceId" or (isinstance(path, str) and path.startswith("meta."))):
            raise ValidationError(
                'filter keys must be "resourceId" or "meta.<path>"',
                code="invalid_metric",
                field=f"filter.{path}",
            )
        pairs.append((path, _canonical(expected)))
    return tuple(sorted(pairs))


def _parse_period(raw: object, current: PeriodSpec) -> PeriodSpec:
    if not isinstance(raw, Mapping):
        raise ValidationError("period must be an object", code="invalid_metric", field="period")
    try:
        period_type = PeriodType(raw.get("type", current.type.value))
    except ValueError:
        raise ValidationError(
            "period.type must be month, week, day or hour",
            code="invalid_metric",
            field="period.type",
        ) from None
    anchor = raw.get("anchorDay", current.anchor_day)
    if isinstance(anchor, bool) or not isinstance(anchor, int):
        raise ValidationError(
            "period.anchorDay must be an integer 1..31",
            code="invalid_metric",
            field="period.anchorDay",
        )
    timezone = raw.get("timezone", current.timezone)
    if not isinstance(timezone, str):
        raise ValidationError(
            "period.timezone must be an IANA time zone name",
            code="invalid_metric",
            field="period.timezone",
        )
    return PeriodSpec(period_type, anchor, timezone)


def _lateness(raw: object) -> timedelta:
    if not isinstance(raw, str):
        raise ValidationError(
            "latenessWindow must be an ISO 8601 duration such as PT48H",
            code="invalid_metric",
            field="latenessWindow",
        )
    try:
        window = parse_duration(raw)
    except ValidationError as exc:
        raise ValidationError(exc.message, code="invalid_metric", field="latenessWindow") from None
    if not timedelta(0) <= window <= MAX_LATENESS:
        raise ValidationError(
            "latenessWindow must be between PT0S and P3660D (about ten years)",
            code="invalid_metric",
            field="latenessWindow",
        )
    return window
