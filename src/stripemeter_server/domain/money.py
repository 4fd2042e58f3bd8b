"""Currencies and rounding of money amounts.

Amounts are :class:`~decimal.Decimal` everywhere. Arithmetic runs in an explicit context with
60 significant digits instead of the process-wide default of 28, because a 20-digit quantity
times a 20-digit unit price already needs 40 digits and must never be rounded silently.
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Final

from stripemeter_server.domain.errors import ValidationError

__all__ = [
    "DECIMAL_CONTEXT",
    "EXACT_CONTEXT",
    "MAX_DECIMAL_PLACES",
    "MAX_SIGNIFICANT_DIGITS",
    "limit_violation",
    "minor_unit_exponent",
    "normalize_currency",
    "round_amount",
    "zero_amount",
]

DECIMAL_CONTEXT: Final = Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""Context for money and quantity arithmetic; never use the default 28-digit context."""

EXACT_CONTEXT: Final = Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)
"""Like :data:`DECIMAL_CONTEXT` but raises instead of rounding: pricing must be exact."""

# The ledger's decimal range (DESIGN §2). Keeping configured amounts inside it makes every
# product of an amount and a quantity exact in the 60-digit context.
MAX_SIGNIFICANT_DIGITS: Final = 20
MAX_DECIMAL_PLACES: Final = 12
_MAGNITUDE_LIMIT: Final = Decimal(10) ** MAX_SIGNIFICANT_DIGITS

# ISO 4217 currencies whose minor unit is not 1/100 (as Stripe treats them).
_ZERO_DECIMAL: Final = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
_THREE_DECIMAL: Final = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

_CURRENCY_RE: Final = re.compile(r"[A-Za-z]{3}")


def normalize_currency(currency: str) -> str:
    """Validate a currency code and return it lower-case, the way Stripe spells it.

    Only the shape is checked (three ASCII letters): Stripe adds currencies over time and
    rejects unsupported ones itself, so a hard-coded allow-list here would only go stale.
    """
    if not isinstance(currency, str) or _CURRENCY_RE.fullmatch(currency) is None:
        raise ValidationError(
            f"currency must be a three-letter ISO 4217 code, got {currency!r}",
            code="invalid_currency",
            field="currency",
        )
    return currency.lower()


def minor_unit_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (2 unless listed otherwise)."""
    code = normalize_currency(currency)
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round half-up (away from zero on a tie) to the currency's minor unit.

    The result always carries exactly the minor unit's exponent (``Decimal("5.00")`` for
    USD, ``Decimal("5")`` for JPY), so amounts render consistently.
    """
    if not amount.is_finite():
        raise ValidationError(
            f"amount must be a finite number, got {amount}", code="invalid_amount"
        )
    quantum = Decimal(1).scaleb(-minor_unit_exponent(currency))
    with localcontext(DECIMAL_CONTEXT) as ctx:
        rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP, context=ctx)
        # A negative amount that rounds to zero would print as "-0.00"; drop the sign.
        return rounded.copy_abs() if rounded.is_zero() else rounded


def zero_amount(currency: str) -> Decimal:
    """Zero at the currency's minor unit, the neutral start of a sum of rounded lines."""
    return round_amount(Decimal(0), currency)


def limit_violation(value: Decimal) -> str | None:
    """Why a finite decimal is outside the ledger's range, or ``None`` when it fits.

    Returns a reason rather than raising so each caller can name its own field and code.
    """
    if abs(value) >= _MAGNITUDE_LIMIT:
        return f"must be less than 1E+{MAX_SIGNIFICANT_DIGITS} in magnitude"
    if value.is_zero():
        return None  # "0E-20" is still zero, whatever its exponent
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite by contract
    # Trailing zeros are not precision ("1.500" has one decimal place).
    significant = "".join(map(str, digits)).rstrip("0")
    places = -(exponent + len(digits) - len(significant))
    if places > MAX_DECIMAL_PLACES:
        return f"has more than {MAX_DECIMAL_PLACES} decimal places"
    if len(significant) > MAX_SIGNIFICANT_DIGITS:
        return f"has more than {MAX_SIGNIFICANT_DIGITS} significant digits"
    return None
