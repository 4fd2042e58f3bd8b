"""Unimeter's vocabulary in ours (ADR 0620): accounts are customers, schemas are metrics,
wire events are ingest events, counter states are aggregate values.

Pure: no I/O. A schema we cannot hold faithfully is refused (``MappingError``, answered
with ``ERR``) rather than stored as something that would count differently.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.metrics import Aggregation, Metric
from stripemeter_server.domain.periods import PeriodType
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.unimeter.payloads import OperationType, WireEvent, WireSchema
from stripemeter_server.unimeter.replies import U128_MAX, AggValue, whole

KEY_PREFIX: Final = "um_"
THRESHOLD_RULE_PREFIX: Final = "unimeter:"
MAX_THRESHOLD_FLAGS: Final = 8  # Unimeter keeps at most 8 thresholds per metric

AGG_TYPES: Final[Mapping[int, Aggregation]] = {
    0: Aggregation.COUNT,
    1: Aggregation.SUM,
    2: Aggregation.MAX,
    3: Aggregation.LATEST,
    4: Aggregation.UNIQUE_COUNT,
}
AGG_CODES: Final = {aggregation: code for code, aggregation in AGG_TYPES.items()}
FIXED, CALENDAR, DAY, WEEK = 0, 1, 2, 3


class MappingError(ValueError):
    """A Unimeter request asks for something stripemeter does not do."""


def customer_ref(account_id: int) -> str:
    """An account is the customer whose ``customerRef`` is its decimal number."""
    return str(account_id)


def account_id(ref: str) -> int | None:
    """The account of a customer, when its ref is a Unimeter account number."""
    if ref.isascii() and ref.isdigit() and (ref == "0" or not ref.startswith("0")):
        number = int(ref)
        return number if number < 2**64 else None
    return None


def metric_body(schema: WireSchema) -> dict[str, Any]:
    """The metric definition (our API's shape) for a Unimeter schema."""
    aggregation = AGG_TYPES.get(schema.agg_type)
    if aggregation is None:
        raise MappingError(f"unknown agg_type {schema.agg_type}")
    if schema.recurring:
        raise MappingError("recurring metrics are not supported")
    body: dict[str, Any] = {
        "code": schema.code,
        "aggregation": aggregation.value,
        "period": _period(schema),
    }
    field = schema.field_name
    if aggregation is Aggregation.UNIQUE_COUNT:
        if not field:
            raise MappingError("a COUNT_UNIQUE metric needs field_name")
        body["uniqueProperty"] = f"meta.{field}"
    elif field and aggregation is not Aggregation.COUNT:
        body["valueProperty"] = f"meta.{field}"
    if schema.filters:
        body["filter"] = _filter(schema)
    return body


def _period(schema: WireSchema) -> dict[str, Any]:
    if schema.period_type in (FIXED, CALENDAR):
        day = schema.billing_cycle_day
        if day > 28:
            raise MappingError("billing_cycle_day must be 1..28")
        return {"type": PeriodType.MONTH.value, "anchorDay": max(1, day)}
    if schema.period_type == DAY:
        return {"type": PeriodType.DAY.value}
    if schema.period_type == WEEK:
        return {"type": PeriodType.WEEK.value}
    raise MappingError(f"unknown period_type {schema.period_type}")


def _filter(schema: WireSchema) -> dict[str, str]:
    found = {}
    for item in schema.filters:
        if len(item.values) != 1 or not item.key:
            raise MappingError("a dimension filter must name one key and one value")
        found[f"meta.{item.key}"] = item.values[0]
    return found


def threshold_rules(schema: WireSchema) -> list[dict[str, Any]]:
    """Alert rules (our API's shape) for a schema's thresholds: one per threshold, for every
    customer, once per period (``recurring`` ones too: Unimeter re-fires those on every
    update above the line, our rules fire at most once per period), named
    ``unimeter:<metric>:<position>:<code>`` so replies can give the code and the flag bit
    back."""
    return [
        {
            "type": "quantity",
            "metric": schema.code,
            "threshold": str(t.value),
            "recurrence": "period",
            "name": f"{THRESHOLD_RULE_PREFIX}{schema.code}:{position}:{t.code}",
        }
        for position, t in enumerate(schema.thresholds[:MAX_THRESHOLD_FLAGS])
    ]


def _threshold_name(rule_name: str | None, metric: str) -> tuple[int, str] | None:
    """(position, code) of a threshold rule of ``metric``, from its name."""
    prefix = f"{THRESHOLD_RULE_PREFIX}{metric}:"
    if not rule_name or not rule_name.startswith(prefix):
        return None
    position, _, code = rule_name[len(prefix) :].partition(":")
    return (int(position), code) if position.isdigit() else None


def threshold_code(rule_name: str | None, metric: str, fallback: str) -> str:
    """The code a Unimeter client sees for an alert of this rule."""
    named = _threshold_name(rule_name, metric)
    return named[1] if named is not None else (rule_name or fallback)


def alert_flags(
    metric: str, rules: Sequence[tuple[str | None, Decimal]], value: Decimal | None
) -> int:
    """Bit i set while the value is at or over the metric's threshold i, as Unimeter's
    aggregate flags say (``rules``: each rule's name and threshold)."""
    flags = 0
    for name, threshold in rules:
        named = _threshold_name(name, metric)
        if (
            named is not None
            and named[0] < MAX_THRESHOLD_FLAGS
            and value is not None
            and value >= threshold
        ):
            flags |= 1 << named[0]
    return flags


def listable(metric: Metric) -> tuple[int, str] | None:
    """(agg_type, field_name) of a metric a Unimeter client can list, else None."""
    code = AGG_CODES.get(metric.aggregation)
    if code is None:
        return None
    prop = (
        metric.unique_property
        if metric.aggregation is Aggregation.UNIQUE_COUNT
        else metric.value_property
    )
    return code, prop.removeprefix("meta.") if prop.startswith("meta.") else ""


def event_key(event: WireEvent) -> str:
    """A timestamped event's key is a hash of everything it says, so a resend is a
    duplicate forever; a timestamp-less one (it gets the receive time) gets a fresh key,
    because identical events without a time are distinct calls, not retries."""
    if event.timestamp_ns == 0:
        return KEY_PREFIX + uuid.uuid4().hex
    text = json.dumps(
        [event.metric, event.account_id, event.timestamp_ns, event.value, sorted(event.properties)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return KEY_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def ingest_event(event: WireEvent) -> dict[str, Any]:
    """The event as our ingest pipeline takes it; without a timestamp the pipeline stamps
    the receive time, as for an HTTP event without ``ts``."""
    if event.operation not in (OperationType.NONE, OperationType.ADD):
        raise MappingError("operation_type REMOVE is not supported (book an adjustment)")
    raw: dict[str, Any] = {
        "metric": event.metric,
        "customerRef": customer_ref(event.account_id),
        "quantity": str(event.value),
        "idempotencyKey": event_key(event),
    }
    if event.timestamp_ns != 0:
        raw["ts"] = format_timestamp(from_micros(event.timestamp_ns // 1000))
    if event.properties:
        raw["meta"] = dict(event.properties)
    return raw


def aggregate(
    metric: Metric, state: CounterState, rules: Sequence[tuple[str | None, Decimal]] = ()
) -> AggValue:
    """The aggregate value: every field from the events, and the metric's own field as its
    billable value (adjustments included), so the field a client reads is what we invoice."""
    billable = state.value(metric.aggregation)
    fields: dict[str, Decimal | int | None] = {
        "sum": state.sum,
        "count": state.count,
        "max": state.max,
        "last_value": state.latest_value,
    }
    target = {
        Aggregation.COUNT: "count",
        Aggregation.SUM: "sum",
        Aggregation.MAX: "max",
        Aggregation.LATEST: "last_value",
        Aggregation.UNIQUE_COUNT: "count",
    }
    if metric.aggregation in target:
        fields[target[metric.aggregation]] = billable
    return AggValue(
        sum=whole(fields["sum"], U128_MAX),
        count=whole(fields["count"]),
        max=whole(fields["max"]),
        last_value=whole(fields["last_value"]),
        last_ts_ns=(state.latest_ts_us or 0) * 1000,
        alert_flags=alert_flags(metric.code, rules, billable),
    )
