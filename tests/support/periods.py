"""Shorthands for period tests: instants from RFC 3339 text, specs, and bounds."""

from __future__ import annotations

from datetime import datetime

from stripemeter_server.domain.periods import PeriodSpec, PeriodType, period_containing
from stripemeter_server.domain.timestamps import parse_timestamp


def ts(text: str) -> datetime:
    return parse_timestamp(text)


def spec(kind: str, tz: str = "UTC", anchor: int = 1) -> PeriodSpec:
    return PeriodSpec(PeriodType(kind), anchor, tz)


def bounds(s: PeriodSpec, instant: str) -> tuple[datetime, datetime]:
    p = period_containing(s, ts(instant))
    return p.start, p.end
