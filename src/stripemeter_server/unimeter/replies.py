"""Response payloads: plain values in, the bytes the Unimeter clients decode out.

Unimeter's numbers are unsigned integers (a sum is 128 bits, the rest 64); ours are exact
decimals that adjustments may make fractional or negative. A value is sent as its integer
part, held to the field's range (ADR 0620): what a Unimeter user ingests is whole numbers,
so this only bites on corrections booked through our own API.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Final

PARTITION_COUNT: Final = 256
ADDRESS_WIDTH: Final = 24
U64_MAX: Final = 2**64 - 1
U128_MAX: Final = 2**128 - 1

_INGEST = struct.Struct("<IIQ")  # stored, duplicates, last offset
_AGG = struct.Struct("<QQQQQqQ")  # sum lo, sum hi, count, max, last value, last ts, flags
_METRIC = struct.Struct("<64sBBBx64s")
_BREAKDOWN = struct.Struct("<B7x128s128sQQQQQqQ")
_LIST_HEAD = struct.Struct("<I4x")  # entry count, padding: EVENTS_LIST's reply starts so
_EVENT_RECORD = struct.Struct("<QqQ64sQB7x")  # offset, ts, account, metric, value, op
_ALERT_RECORD = struct.Struct("<QQ64s32sQq8x")  # offset, account, metric, code, value, ts
# node id, node count, padding, log offset, segments, memtable entries, uptime (ns)
_CLUSTER_HEAD = struct.Struct("<BB6xQQQq")
_PARTITION_STATUS = struct.Struct("<IHBB")  # view, commit number, role (0: leader), leader
EVENT_RECORD_SIZE: Final = _EVENT_RECORD.size  # 104
CLUSTER_STATUS_SIZE: Final = _CLUSTER_HEAD.size + PARTITION_COUNT * _PARTITION_STATUS.size
ALERT_RECORD_SIZE: Final = _ALERT_RECORD.size  # 136


def fixed(value: str, width: int) -> bytes:
    """``value`` as UTF-8, cut to ``width - 1`` bytes on a character boundary, NUL-padded."""
    raw = value.encode("utf-8")[: width - 1]
    return raw.decode("utf-8", "ignore").encode("utf-8").ljust(width, b"\x00")


def whole(value: Decimal | int | None, ceiling: int = U64_MAX) -> int:
    """The integer part of ``value``, held to ``[0, ceiling]`` (None: 0)."""
    if value is None:
        return 0
    number = int(value.to_integral_value(ROUND_FLOOR)) if isinstance(value, Decimal) else value
    return max(0, min(ceiling, number))


@dataclass(frozen=True, slots=True)
class AggValue:
    sum: int = 0
    count: int = 0
    max: int = 0
    last_value: int = 0
    last_ts_ns: int = 0
    alert_flags: int = 0


def agg_value(value: AggValue) -> bytes:
    total = whole(value.sum, U128_MAX)
    return _AGG.pack(
        total & U64_MAX,
        total >> 64,
        whole(value.count),
        whole(value.max),
        whole(value.last_value),
        value.last_ts_ns,
        whole(value.alert_flags),
    )


def ingest_result(stored: int, duplicates: int, last_offset: int) -> bytes:
    return _INGEST.pack(stored, duplicates, whole(last_offset))


def metric_entry(code: str, agg_type: int, field_name: str) -> bytes:
    """One METRIC_LIST entry (132 bytes; filters are not listed: the entry has no room)."""
    return _METRIC.pack(fixed(code, 64), agg_type, 0, 0, fixed(field_name, 64))


def partition_map(address: str) -> bytes:
    """Every partition led by ``address``, with no replicas: one node."""
    leader = fixed(address, ADDRESS_WIDTH)
    entry = leader + b"\x00" * (3 * ADDRESS_WIDTH)
    return entry * PARTITION_COUNT


def breakdown_entry(dims: list[tuple[str, str]], value: AggValue) -> bytes:
    keys = b"".join(fixed(k, 32) for k, _ in dims).ljust(128, b"\x00")
    values = b"".join(fixed(v, 32) for _, v in dims).ljust(128, b"\x00")
    total = whole(value.sum, U128_MAX)
    return _BREAKDOWN.pack(
        len(dims),
        keys,
        values,
        total & U64_MAX,
        total >> 64,
        whole(value.count),
        whole(value.max),
        whole(value.last_value),
        value.last_ts_ns,
        whole(value.alert_flags),
    )


def event_records(records: list[tuple[int, int, int, str, int, int]]) -> bytes:
    """EVENTS_LIST's reply: an 8-byte count, then one 104-byte record per event
    (offset, ts ns, account, metric, value, operation), as Unimeter's server writes it."""
    return _LIST_HEAD.pack(len(records)) + b"".join(
        _EVENT_RECORD.pack(
            whole(offset), ts_ns, account_id, fixed(metric, 64), whole(value), operation
        )
        for offset, ts_ns, account_id, metric, value, operation in records
    )


def alert_record(
    offset: int, account_id: int, metric: str, code: str, value: int, triggered_ns: int
) -> bytes:
    return _ALERT_RECORD.pack(
        whole(offset), account_id, fixed(metric, 64), fixed(code, 32), whole(value), triggered_ns
    )


def alert_push(record: bytes, node_id: int = 0) -> bytes:
    """An ALERT_PUSH broadcast's payload: the record, the node id, padding."""
    return record + bytes([node_id]) + b"\x00" * 7


def cluster_status(uptime_ns: int) -> bytes:
    """One node (id 0) leading every partition: the 40-byte header, then 256 partition
    entries. The storage counters of Unimeter's own engine have no equivalent here: 0."""
    return (
        _CLUSTER_HEAD.pack(0, 1, 0, 0, 0, uptime_ns)
        + _PARTITION_STATUS.pack(0, 0, 0, 0) * PARTITION_COUNT
    )
