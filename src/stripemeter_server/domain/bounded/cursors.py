"""Bounded sequences: cursors, numeric ids and ``Last-Event-ID`` that fit a 64-bit column
(ADR 0006)."""

from __future__ import annotations

import re
from typing import Final

from stripemeter_server.domain.errors import ValidationError

MAX_SEQUENCE: Final = 2**63 - 1

_SEQUENCE: Final = re.compile(r"[0-9]{1,19}", re.ASCII)


def parse_sequence(raw: object, field: str, *, code: str = "invalid_cursor") -> int:
    """A non-negative integer that fits a 64-bit column, from ASCII digits or an int."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _SEQUENCE.fullmatch(raw):
        value = int(raw)
    else:
        raise ValidationError(
            f"{field} must be a non-negative integer of at most 19 digits", code=code, field=field
        )
    if not 0 <= value <= MAX_SEQUENCE:
        raise ValidationError(
            f"{field} must be between 0 and {MAX_SEQUENCE}", code=code, field=field
        )
    return value


def is_sequence(raw: str) -> bool:
    """Whether ``raw`` is text :func:`parse_sequence` accepts."""
    return bool(_SEQUENCE.fullmatch(raw)) and int(raw) <= MAX_SEQUENCE
