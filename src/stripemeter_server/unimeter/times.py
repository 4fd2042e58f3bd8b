"""Wire times: signed 64-bit nanoseconds since the Unix epoch (0: "none given")."""

from __future__ import annotations

from datetime import datetime

from stripemeter_server.domain.timestamps import from_micros


def instant(ns: int) -> datetime:
    """A wire time as a datetime (every i64 is inside our instant range: years 1677-2262)."""
    return from_micros(ns // 1000)
