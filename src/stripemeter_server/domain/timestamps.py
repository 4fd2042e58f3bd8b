"""Timestamps and durations: strict parsing and one canonical text form.

Event times feed the derived idempotency key, so every client must turn the same instant into
the same text; storage keeps integer microseconds so that no float ever touches a time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from stripemeter_server.domain.errors import ValidationError

__all__ = [
    "EPOCH",
    "format_duration",
    "format_timestamp",
    "from_micros",
    "parse_duration",
    "parse_timestamp",
    "to_micros",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS: Final = 1_000_000  # microseconds in a second: stored instants are integer microseconds
_ONE_MICROSECOND = timedelta(microseconds=1)

# RFC 3339 section 5.6 (date-time); section 5.6's note allows "t"/"z" and a space separator.
# re.ASCII keeps \d from matching non-ASCII digits.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)

# ISO 8601 duration restricted to exact units: weeks, days, hours, minutes, seconds.
_DURATION = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,6}))?S)?)?",
    re.ASCII,
)
_CALENDAR_UNITS = re.compile(r"P(?:\d+Y)|P(?:\d+Y)?(?:\d+M)", re.ASCII)


def _invalid_timestamp(text: str, why: str) -> ValidationError:
    return ValidationError(
        f"invalid timestamp {text!r}: {why}; expected RFC 3339 such as 2025-01-16T14:30:00Z",
        code="invalid_timestamp",
    )


def parse_timestamp(text: str) -> datetime:
    """Parse RFC 3339 date-time text (offset required) into an aware UTC datetime.

    Digits beyond microseconds are truncated, never rounded, so that every client derives the
    same key from the same text. Leap seconds (``:60``) are rejected: no instant represents them.
    """
    if not isinstance(text, str):
        raise ValidationError("timestamp must be a string", code="invalid_timestamp")
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _invalid_timestamp(text, "not an RFC 3339 date-time with a time zone offset")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7) or ""
    micros = int(fraction[:6].ljust(6, "0"))
    if match.group(8):
        offset = timedelta(0)
    else:
        off_hours, off_minutes = int(match.group(10)), int(match.group(11))
        if off_hours > 23 or off_minutes > 59:
            raise _invalid_timestamp(text, "offset out of range")
        offset = timedelta(hours=off_hours, minutes=off_minutes)
        if match.group(9) == "-":
            offset = -offset
    if second == 60:
        raise _invalid_timestamp(text, "leap seconds are not supported")
    try:
        local = datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
        return local - offset
    except (ValueError, OverflowError) as exc:
        raise _invalid_timestamp(text, str(exc)) from None


def _require_aware(ts: datetime) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("naive datetime: a time zone is required")


def format_timestamp(ts: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (the key's ts form)."""
    if ts.tzinfo is not UTC:
        _require_aware(ts)
        ts = ts.astimezone(UTC)
    # ``isoformat`` pads the year to four digits and, with this timespec, always writes six
    # fraction digits: only the "+00:00" suffix differs from the canonical form.
    return ts.isoformat(timespec="microseconds")[:-6] + "Z"


def to_micros(ts: datetime) -> int:
    """Integer microseconds since the Unix epoch; exact (timedelta floor division, no float)."""
    if ts.tzinfo is not UTC:  # UTC (nearly every call) is aware by construction
        _require_aware(ts)
    return (ts - EPOCH) // _ONE_MICROSECOND


def from_micros(us: int) -> datetime:
    """Inverse of :func:`to_micros`: an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def _invalid_duration(text: str, why: str) -> ValidationError:
    return ValidationError(
        f"invalid duration {text!r}: {why}",
        code="invalid_duration",
    )


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of exact units (``PT48H``, ``P2D``, ``P1DT12H``, ``PT0S``).

    Years and months are rejected because their length depends on the calendar; a day is
    taken as exactly 24 hours. Only seconds may carry a fraction (up to microseconds).
    """
    if not isinstance(text, str):
        raise ValidationError("duration must be a string", code="invalid_duration")
    match = _DURATION.fullmatch(text)
    if match is None:
        if _CALENDAR_UNITS.match(text):
            raise _invalid_duration(text, "years and months have no fixed length; use days")
        raise _invalid_duration(text, "expected an ISO 8601 duration such as PT48H or P2D")
    weeks, days, hours, minutes, seconds, fraction = match.groups()
    if all(g is None for g in (weeks, days, hours, minutes, seconds)):
        raise _invalid_duration(text, "no duration components")
    if text.endswith("T"):
        raise _invalid_duration(text, "'T' must be followed by hours, minutes or seconds")
    try:
        return timedelta(
            weeks=int(weeks or 0),
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=int(seconds or 0),
            microseconds=int((fraction or "").ljust(6, "0")),
        )
    except OverflowError:
        raise _invalid_duration(text, "out of range") from None


def format_duration(td: timedelta) -> str:
    """Render a non-negative timedelta as an ISO 8601 duration in hours, minutes and seconds.

    Days are folded into hours (``PT48H``, not ``P2D``): a timedelta day is exactly 24 hours,
    while a calendar day in a time zone is not, and ``PT48H`` round-trips the usual input.
    """
    if td < timedelta(0):
        raise ValueError("negative durations have no ISO 8601 form")
    total_micros = td // _ONE_MICROSECOND
    total_seconds, micros = divmod(total_micros, 1_000_000)
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = ["PT"]
    if hours:
        parts.append(f"{hours}H")
    if minutes:
        parts.append(f"{minutes}M")
    if micros:
        parts.append(f"{seconds}.{micros:06d}".rstrip("0") + "S")
    elif seconds or (not hours and not minutes):
        parts.append(f"{seconds}S")
    return "".join(parts)
