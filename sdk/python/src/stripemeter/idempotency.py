"""Client-side idempotency keys, computed exactly as the server derives them.

``key = "evt_" + sha256(JCS([tenantId, metric, customerRef, resourceId or "", ts, quantity,
meta or null])).hexdigest()[:32]`` where ``ts`` is the event time in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (finer input truncated to microseconds) and ``quantity`` is
the decimal in plain notation with no exponent and no trailing fractional zeros
(``"1.50"`` → ``"1.5"``, ``"1E+2"`` → ``"100"``, ``"-0"`` → ``"0"``). An empty ``meta``
counts as ``null``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ._jcs import canonicalize_bytes

__all__ = [
    "Quantity",
    "Timestamp",
    "canonical_quantity",
    "canonical_ts",
    "compute_idempotency_key",
    "parse_ts",
    "stamp_now",
    "to_decimal",
]

Quantity = int | str | Decimal | float
"""What the SDK accepts as a quantity. Floats go through ``Decimal(str(x))``."""

Timestamp = datetime | str
"""An aware ``datetime`` (naive means UTC) or an RFC 3339 string."""

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def to_decimal(value: Quantity) -> Decimal:
    """A finite ``Decimal`` from an int, a decimal string, a ``Decimal`` or a float."""
    if isinstance(value, bool):
        raise TypeError("a quantity cannot be a bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        kind = type(value).__name__
        raise TypeError(f"a quantity must be int, str, Decimal or float, not {kind}")
    if not result.is_finite():
        raise ValueError(f"a quantity must be finite, not {value!r}")
    return result


def canonical_quantity(value: Quantity) -> str:
    """Plain decimal notation, no exponent, no trailing fractional zeros, ``-0`` → ``"0"``."""
    text = format(to_decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0") == "":
        return "0"
    return text


def parse_ts(value: Timestamp) -> datetime:
    """An aware UTC ``datetime`` (microsecond precision) from a datetime or RFC 3339 text.

    Naive datetimes are taken as UTC. Fractions finer than a microsecond are truncated.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise TypeError(f"ts must be a datetime or an RFC 3339 string, not {type(value).__name__}")
    match = _RFC3339.match(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    micro = int((frac or "").ljust(6, "0")[:6])
    if zulu:
        tz = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    leap = int(second) == 60  # 23:59:60 is legal RFC 3339; fold it onto the next second
    stamp = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        59 if leap else int(second),
        micro,
        tzinfo=tz,
    )
    if leap:
        stamp += timedelta(seconds=1)
    return stamp.astimezone(UTC)


def canonical_ts(value: Timestamp) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    return parse_ts(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_stamp_lock = threading.Lock()
_last_stamp = datetime.min.replace(tzinfo=UTC)


def stamp_now() -> datetime:
    """The current UTC time, strictly increasing within this process.

    Two events that are identical in every field would get the same idempotency key if they
    were stamped in the same microsecond; making the SDK's stamps strictly increasing (by at
    least one microsecond) means that never happens to events created by one process.
    """
    global _last_stamp
    now = datetime.now(UTC)
    with _stamp_lock:
        if now <= _last_stamp:
            now = _last_stamp + timedelta(microseconds=1)
        _last_stamp = now
    return now


def compute_idempotency_key(
    tenant_id: str,
    metric: str,
    customer_ref: str,
    ts: Timestamp,
    quantity: Quantity = 1,
    resource_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """The key the server would derive for this event (``"evt_"`` + 32 hex digits)."""
    payload = [
        tenant_id,
        metric,
        customer_ref,
        resource_id or "",
        canonical_ts(ts),
        canonical_quantity(quantity),
        dict(meta) if meta else None,
    ]
    return "evt_" + hashlib.sha256(canonicalize_bytes(payload)).hexdigest()[:32]
