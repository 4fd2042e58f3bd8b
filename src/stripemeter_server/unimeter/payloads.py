"""Request payloads: each decoded from bytes into a plain value, or refused.

Every decoder checks the payload's exact length against the counts it declares before it
reads an entry, so a lying count can neither run past the buffer nor make a large list:
the work is bounded by the payload, which the frame cap bounds. A refusal is a
``PayloadError`` (answered with the protocol's ``ERR`` status); nothing else is raised.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

MAX_INGEST_EVENTS: Final = 10_000
MAX_FILTER_VALUES: Final = 8
MAX_GROUP_BY: Final = 4

_INGEST_HEAD = struct.Struct("<II")  # event count, property count
_EVENT = struct.Struct("<64sQqQBB6x")  # metric, account, ts (ns), value, op, property count
_PROPERTY = struct.Struct("<32s64s")
_METRIC_HEAD = struct.Struct("<64sBBBx64s")  # code, agg, recurring, filters, field
_FILTER = struct.Struct("<32sB3x256s")  # key, value count, 8 values of 32 bytes
_THRESHOLD_HEAD = struct.Struct("<B7x")
_THRESHOLD = struct.Struct("<32sQB7x")  # code, value, recurring
_PERIOD = struct.Struct("<BB6x")  # period type, billing cycle day
_RANGE_QUERY = struct.Struct("<Qqq64sB7x")  # account, start, end (ns), metric, count
_REALTIME = struct.Struct("<Q64s")
_EVENTS_LIST = struct.Struct("<Qqq")
_ALERTS_LIST = struct.Struct("<QQ")
_GROUP_KEY = 32


class PayloadError(ValueError):
    """The payload does not match its packet type's layout."""


class OperationType:
    NONE, ADD, REMOVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class WireEvent:
    metric: str
    account_id: int
    timestamp_ns: int  # 0: none given
    value: int
    operation: int
    properties: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class WireFilter:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WireThreshold:
    code: str
    value: int
    recurring: bool


@dataclass(frozen=True, slots=True)
class WireSchema:
    code: str
    agg_type: int
    recurring: bool
    field_name: str
    filters: tuple[WireFilter, ...]
    thresholds: tuple[WireThreshold, ...]
    period_type: int
    billing_cycle_day: int


@dataclass(frozen=True, slots=True)
class RangeQuery:
    """USAGE_QUERY (``keys``: filter keys and values) or USAGE_QUERY_BREAKDOWN (group-by)."""

    account_id: int
    metric: str
    start_ns: int
    end_ns: int
    filters: tuple[WireFilter, ...] = ()
    group_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountMetric:
    account_id: int
    metric: str


@dataclass(frozen=True, slots=True)
class EventsWindow:
    account_id: int
    since_ns: int
    until_ns: int


@dataclass(frozen=True, slots=True)
class AlertsSince:
    account_id: int
    since_offset: int


def text(raw: bytes, field: str) -> str:
    """A NUL-padded fixed-width string: the bytes before the first NUL, as UTF-8. Clients
    cut long text at a byte count, which can split the last character: that partial
    character is dropped; any other invalid UTF-8 is refused."""
    value = raw.split(b"\x00", 1)[0]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            return value[: exc.start].decode("utf-8")
        raise PayloadError(f"{field} is not UTF-8") from None


def _need(payload: bytes, size: int, what: str) -> None:
    if len(payload) != size:
        raise PayloadError(f"{what}: {len(payload)} bytes where {size} were expected")


def decode_ingest(payload: bytes) -> list[WireEvent]:
    if len(payload) < _INGEST_HEAD.size:
        raise PayloadError("ingest payload shorter than its header")
    n_events, n_props = _INGEST_HEAD.unpack_from(payload)
    if n_events > MAX_INGEST_EVENTS:
        raise PayloadError(f"{n_events} events in one frame; at most {MAX_INGEST_EVENTS}")
    _need(
        payload,
        _INGEST_HEAD.size + n_events * _EVENT.size + n_props * _PROPERTY.size,
        "ingest payload",
    )
    heads = [
        _EVENT.unpack_from(payload, _INGEST_HEAD.size + i * _EVENT.size) for i in range(n_events)
    ]
    if sum(h[5] for h in heads) != n_props:
        raise PayloadError("the events' property counts do not add up to the frame's")
    props_at = _INGEST_HEAD.size + n_events * _EVENT.size
    events = []
    for metric, account, ts, value, op, count in heads:
        props = []
        for _ in range(count):
            key, val = _PROPERTY.unpack_from(payload, props_at)
            props.append((text(key, "property key"), text(val, "property value")))
            props_at += _PROPERTY.size
        events.append(WireEvent(text(metric, "metric_code"), account, ts, value, op, tuple(props)))
    return events


def _filters(payload: bytes, at: int, count: int) -> tuple[WireFilter, ...]:
    found = []
    for i in range(count):
        key, n_values, blob = _FILTER.unpack_from(payload, at + i * _FILTER.size)
        if n_values > MAX_FILTER_VALUES:
            raise PayloadError(f"a filter has {n_values} values; at most {MAX_FILTER_VALUES}")
        values = tuple(text(blob[j * 32 : (j + 1) * 32], "filter value") for j in range(n_values))
        found.append(WireFilter(text(key, "filter key"), values))
    return tuple(found)


def decode_metric_put(payload: bytes) -> WireSchema:
    if len(payload) < _METRIC_HEAD.size:
        raise PayloadError("metric payload shorter than its header")
    code, agg, recurring, n_filters, field = _METRIC_HEAD.unpack_from(payload)
    at = _METRIC_HEAD.size + n_filters * _FILTER.size
    if len(payload) < at:
        raise PayloadError("metric payload shorter than its filters")
    filters = _filters(payload, _METRIC_HEAD.size, n_filters)
    thresholds: tuple[WireThreshold, ...] = ()
    period_type = billing_day = 0
    if len(payload) > at:  # the thresholds section, then the period section
        if len(payload) < at + _THRESHOLD_HEAD.size:
            raise PayloadError("metric payload cut inside its thresholds")
        (n_thresholds,) = _THRESHOLD_HEAD.unpack_from(payload, at)
        at += _THRESHOLD_HEAD.size
        if len(payload) < at + n_thresholds * _THRESHOLD.size:
            raise PayloadError("metric payload shorter than its thresholds")
        thresholds = tuple(
            WireThreshold(text(c, "threshold code"), v, bool(r))
            for c, v, r in (
                _THRESHOLD.unpack_from(payload, at + i * _THRESHOLD.size)
                for i in range(n_thresholds)
            )
        )
        at += n_thresholds * _THRESHOLD.size
        if len(payload) != at:
            _need(payload, at + _PERIOD.size, "metric payload")
            period_type, billing_day = _PERIOD.unpack_from(payload, at)
    return WireSchema(
        text(code, "code"),
        agg,
        bool(recurring),
        text(field, "field"),
        filters,
        thresholds,
        period_type,
        billing_day,
    )


def decode_metric_code(payload: bytes) -> str:
    _need(payload, 64, "metric delete payload")
    return text(payload, "code")


def decode_usage_query(payload: bytes) -> RangeQuery:
    if len(payload) < _RANGE_QUERY.size:
        raise PayloadError("query payload shorter than its header")
    account, start, end, metric, n_filters = _RANGE_QUERY.unpack_from(payload)
    _need(payload, _RANGE_QUERY.size + n_filters * _FILTER.size, "query payload")
    return RangeQuery(
        account,
        text(metric, "metric_code"),
        start,
        end,
        filters=_filters(payload, _RANGE_QUERY.size, n_filters),
    )


def decode_breakdown(payload: bytes) -> RangeQuery:
    if len(payload) < _RANGE_QUERY.size:
        raise PayloadError("breakdown payload shorter than its header")
    account, start, end, metric, n_keys = _RANGE_QUERY.unpack_from(payload)
    if not 1 <= n_keys <= MAX_GROUP_BY:
        raise PayloadError(f"group_by must have 1..{MAX_GROUP_BY} keys")
    _need(payload, _RANGE_QUERY.size + n_keys * _GROUP_KEY, "breakdown payload")
    keys = tuple(
        text(
            payload[_RANGE_QUERY.size + i * _GROUP_KEY : _RANGE_QUERY.size + (i + 1) * _GROUP_KEY],
            "group_by key",
        )
        for i in range(n_keys)
    )
    return RangeQuery(account, text(metric, "metric_code"), start, end, group_by=keys)


def decode_realtime(payload: bytes) -> AccountMetric:
    _need(payload, _REALTIME.size, "realtime payload")
    account, metric = _REALTIME.unpack(payload)
    return AccountMetric(account, text(metric, "metric_code"))


def decode_events_list(payload: bytes) -> EventsWindow:
    _need(payload, _EVENTS_LIST.size, "events list payload")
    return EventsWindow(*_EVENTS_LIST.unpack(payload))


def decode_alerts_list(payload: bytes) -> AlertsSince:
    _need(payload, _ALERTS_LIST.size, "alerts list payload")
    return AlertsSince(*_ALERTS_LIST.unpack(payload))
