"""JSON shapes of responses: decimals as exact strings, times as RFC 3339 UTC."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from stripemeter_server.domain import json_text
from stripemeter_server.domain.bounded import parse_instant
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import format_timestamp, from_micros


def dec(value: Decimal | None) -> str | None:
    return None if value is None else to_plain_string(value)


def ts(value: datetime | int | None) -> str | None:
    if value is None:
        return None
    return format_timestamp(from_micros(value) if isinstance(value, int) else value)


# Period and bucket bounds recur: every customer of a zone has this month's, a history's
# bucket ends where the next one starts. Each formatted once (ADR 0967); 4 096 at most.
bound: Callable[[datetime], str | None] = lru_cache(maxsize=4096)(ts)


def instant(value: datetime | int) -> str:
    """A time that is always there, as RFC 3339 UTC."""
    return format_timestamp(from_micros(value) if isinstance(value, int) else value)


def parse_time_param(raw: str | None, name: str) -> datetime | None:
    """An optional RFC 3339 parameter, through the one bounded instant parser."""
    return None if raw is None else parse_instant(raw, name)


def require_time(raw: object, name: str) -> datetime:
    if raw is None:
        raise ValidationError(
            f"{name} is required (RFC 3339)", code="invalid_timestamp", field=name
        )
    return parse_instant(raw, name)


def json_response_body(data: Any) -> bytes:
    """Encode with exact decimals (meta may carry Decimal numbers)."""
    return json_text.dumps(data).encode("utf-8")


def money(value: Decimal | None) -> str | None:
    """A money amount keeps its minor-unit digits ("1.20", "0.00"; "5" for JPY), unlike
    quantities, which are normalised: clients display amounts as they are."""
    return None if value is None else format(value, "f")


T = TypeVar("T")
PAGE_DEFAULT = 1000


def first_page(
    items: Sequence[T], start_of: Callable[[T], datetime], limit: int
) -> tuple[list[T], datetime | None]:
    """The items of the first ``limit`` distinct starts (items are in start order; several
    may share a start, e.g. history groups) and the start the next page begins at (pass it
    as ``from``), or None when nothing is left."""
    shown: list[T] = []
    starts = 0
    previous: datetime | None = None
    for item in items:
        start = start_of(item)
        if start != previous:
            if starts == limit:
                return shown, start
            starts, previous = starts + 1, start
        shown.append(item)
    return shown, None
