"""Bounded decimals: an exact, finite number inside the ledger's range (ADR 0006).

At most 20 significant digits and 12 decimal places (DESIGN §2), counted from the decimal's
own tuple, so no arithmetic context can round or overflow later.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from stripemeter_server.domain.errors import ValidationError

MAX_SIGNIFICANT_DIGITS: Final = 20
MAX_DECIMAL_PLACES: Final = 12
MAX_DECIMAL_TEXT: Final = 64

_PLAIN_DECIMAL: Final = re.compile(r"(?=[0-9.]{1,21}$)[0-9]{1,20}(?:\.[0-9]{1,12})?", re.ASCII)


def decimal_value(raw: object) -> Decimal:
    """Read a JSON number or string as an exact, finite decimal inside the ledger's range.

    Raises ``ValueError`` with a human reason (callers attach the field and their code). The
    check counts digits from the decimal's own tuple, so no context can round or overflow.
    """
    if type(raw) is str and _PLAIN_DECIMAL.fullmatch(raw):
        # Plain digits, at most 20 of them and 12 after the point: inside the range as
        # written, so the digit count below cannot fail (the common quantity).
        value = Decimal(raw)
        return Decimal(0) if value.is_zero() else value
    if isinstance(raw, bool):
        raise ValueError("must be a decimal number, not a boolean")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        value = _decimal_from_text(raw)
    else:
        raise ValueError(f"must be a decimal number, got {type(raw).__name__}")
    if not value.is_finite():
        raise ValueError("must be finite (NaN and Infinity are not allowed)")
    check_decimal_range(value)
    return Decimal(0) if value.is_zero() else value


def _decimal_from_text(raw: str) -> Decimal:
    text = raw.strip()
    if not text:
        raise ValueError("must be a decimal number, got an empty string")
    if len(text) > MAX_DECIMAL_TEXT:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_DECIMAL_TEXT} allowed")
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        shown = text[:40].encode("utf-8", "backslashreplace").decode("ascii")
        raise ValueError(f"must be a decimal number, got {shown!r}") from None


def check_decimal_range(value: Decimal) -> None:
    """≤ 20 significant digits and ≤ 12 decimal places (DESIGN §2), counted exactly."""
    if value.is_zero():
        return
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while end > 1 and digits[end - 1] == 0 and exponent < 0:
        end, exponent = end - 1, exponent + 1
    start = 0
    while start < end - 1 and digits[start] == 0:
        start += 1
    places = -exponent if exponent < 0 else 0
    if places > MAX_DECIMAL_PLACES:
        raise ValueError(f"has {places} decimal places; at most {MAX_DECIMAL_PLACES} are allowed")
    significant = (end - start) + max(exponent, 0)
    if significant > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(
            f"has {significant} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are allowed"
        )


def parse_decimal_field(raw: object, field: str, *, code: str = "invalid_decimal") -> Decimal:
    """:func:`decimal_value` with the error as a ``ValidationError`` naming ``field``."""
    try:
        return decimal_value(raw)
    except ValueError as exc:
        raise ValidationError(f"{field} {exc}", code=code, field=field) from None
