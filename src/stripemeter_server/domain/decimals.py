"""Exact decimal arithmetic for usage and money.

Python's default decimal context keeps 28 significant digits and would silently round a
long-running sum of 20-digit quantities; every usage or money computation uses this wider
context instead, and quantities are checked against the product limits on the way in.
"""

from __future__ import annotations

from decimal import Context, Decimal

from stripemeter_server.domain.bounded import check_decimal_range, decimal_value

ARITHMETIC = Context(prec=80)
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
    """Read a JSON number or string as an exact decimal inside the ledger's range.

    Raises ``ValueError`` with a human reason; callers attach the field name. The one
    bounded decimal parser lives in ``domain/bounded/numbers.py``; this name is kept for callers.
    """
    return decimal_value(raw)


def check_precision(value: Decimal) -> None:
    """Enforce the product limits: ≤ 20 significant digits and ≤ 12 decimal places."""
    check_decimal_range(value)
