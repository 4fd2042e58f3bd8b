"""Bounded instants: RFC 3339 text to an aware UTC instant in [1000, 9000) (ADR 0006),
which leaves centuries of room for period arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import format_timestamp, parse_timestamp

MIN_INSTANT: Final = datetime(1000, 1, 1, tzinfo=UTC)
MAX_INSTANT: Final = datetime(9000, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP_TEXT: Final = 64


def parse_instant(raw: object, field: str, *, code: str = "invalid_timestamp") -> datetime:
    """RFC 3339 text to an aware UTC instant in [1000-01-01, 9000-01-01)."""
    if not isinstance(raw, str):
        raise ValidationError(f"{field} must be an RFC 3339 string", code=code, field=field)
    if len(raw) > MAX_TIMESTAMP_TEXT:
        raise ValidationError(f"{field} is not an RFC 3339 date-time", code=code, field=field)
    try:
        instant = parse_timestamp(raw)
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc.message}", code=code, field=field) from None
    check_instant(instant, field, code=code)
    return instant


def check_instant(instant: datetime, field: str, *, code: str = "invalid_timestamp") -> None:
    if not MIN_INSTANT <= instant < MAX_INSTANT:
        raise ValidationError(
            f"{field} must be from {format_timestamp(MIN_INSTANT)} "
            f"and before {format_timestamp(MAX_INSTANT)}",
            code=code,
            field=field,
        )
