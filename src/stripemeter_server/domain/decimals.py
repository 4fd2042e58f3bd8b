"""Exact decimal arithmetic for usage and money.

Python's default decimal context keeps 28 significant digits and would silently round a
long-running sum of 20-digit quantities; every usage or money computation uses this wider
context instead, and quantities are checked against the product limits on the way in.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

ARITHMETIC = Context(prec=80)
MAX_SIGNIFICANT_DIGITS = 20
MAX_DECIMAL_PLACES = 12
ZERO = Decimal(0)
ONE = Decimal(1)


def add(a: Decimal, b: Decimal) -> Decimal:
    return ARITHMETIC.add(a, b)


def sub(a: Decimal, b: Decimal) -> Decimal:
    return ARITHMETIC.subtract(a, b)


def div(a: Decimal, b: Decimal) -> Decimal:
    return ARITHMETIC.divide(a, b)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent form for integers (``1E+2`` -> ``100``)."""
    if value.is_zero():
        return ZERO
    result = value.normalize(ARITHMETIC)
    if result.as_tuple().exponent > 0:  # type: ignore[operator]
        result = result.quantize(ONE, context=ARITHMETIC)
    return result


def to_plain_string(value: Decimal) -> str:
    """Decimal as plain notation, no exponent, no trailing fractional zeros."""
    return format(normalize(value), "f")


def parse_decimal(raw: object) -> Decimal:
    """Read a JSON number or string as an exact decimal; bool and floats' binary noise excluded.

    Raises ``ValueError`` with a human reason; callers attach the field name.
    """
    if isinstance(raw, bool):
        raise ValueError("must be a decimal number, not a boolean")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueError("must be a decimal number, got an empty string")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"must be a decimal number, got {raw[:40]!r}") from None
    else:
        raise ValueError(f"must be a decimal number, got {type(raw).__name__}")
    if not value.is_finite():
        raise ValueError("must be finite (NaN and Infinity are not allowed)")
    return value


def check_precision(value: Decimal) -> None:
    """Enforce the product limits: ≤ 20 significant digits and ≤ 12 decimal places."""
    normalized = normalize(value)
    _sign, digits, exponent = normalized.as_tuple()
    assert isinstance(exponent, int)
    places = -exponent if exponent < 0 else 0
    if places > MAX_DECIMAL_PLACES:
        raise ValueError(f"has {places} decimal places; at most {MAX_DECIMAL_PLACES} are allowed")
    significant = len(digits) if not normalized.is_zero() else 1
    if exponent > 0:
        significant += exponent
    if significant > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(
            f"has {significant} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are allowed"
        )
