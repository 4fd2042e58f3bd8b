"""Currency minor units and half-up rounding (domain/money.py)."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.money import (
    DECIMAL_CONTEXT,
    limit_violation,
    minor_unit_exponent,
    normalize_currency,
    round_amount,
    zero_amount,
)

# The lists from ISO 4217 / Stripe's currency docs, written out independently of the code.
ZERO_DECIMAL = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
]  # fmt: skip
THREE_DECIMAL = ["BHD", "JOD", "KWD", "OMR", "TND"]


@pytest.mark.parametrize("currency", ["usd", "eur", "gbp", "chf", "cad"])
def test_ordinary_currencies_have_two_decimals(currency: str) -> None:
    assert minor_unit_exponent(currency) == 2


@pytest.mark.parametrize("currency", ZERO_DECIMAL)
def test_zero_decimal_currencies_have_no_minor_unit(currency: str) -> None:
    assert minor_unit_exponent(currency) == 0


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_three_decimal_currencies_have_three_places(currency: str) -> None:
    assert minor_unit_exponent(currency) == 3


def test_minor_unit_lookup_ignores_case() -> None:
    assert minor_unit_exponent("jpy") == minor_unit_exponent("JPY") == 0


def test_normalize_currency_lower_cases_like_stripe() -> None:
    assert normalize_currency("USD") == "usd"


@pytest.mark.parametrize("bad", ["", "us", "usdd", "u$d", "12a", " usd", "usd\n", "ü12"])
def test_malformed_currency_is_rejected_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_currency(bad)
    assert info.value.code == "invalid_currency"
    assert info.value.field == "currency"


def test_non_string_currency_is_rejected() -> None:
    with pytest.raises(ValidationError):
        normalize_currency(840)  # type: ignore[arg-type]


def test_round_amount_rounds_a_tie_up_not_to_even() -> None:
    # Banker's rounding would give 0.02 for 0.025; half-up gives 0.03.
    assert round_amount(Decimal("0.025"), "usd") == Decimal("0.03")


def test_round_amount_rounds_below_half_down() -> None:
    assert round_amount(Decimal("1.0049"), "usd") == Decimal("1.00")


def test_round_amount_is_exact_where_a_float_would_not_be() -> None:
    # float(1.005) is 1.00499999...; the decimal tie must round up.
    assert round_amount(Decimal("1.005"), "usd") == Decimal("1.01")


def test_round_amount_jpy_rounds_to_whole_yen() -> None:
    assert round_amount(Decimal("2.5"), "JPY") == Decimal("3")


def test_round_amount_kwd_keeps_three_places() -> None:
    assert round_amount(Decimal("1.0125"), "kwd") == Decimal("1.013")


def test_round_amount_result_carries_the_minor_unit_exponent() -> None:
    assert str(round_amount(Decimal(5), "usd")) == "5.00"
    assert str(round_amount(Decimal("5.0000"), "jpy")) == "5"
    assert str(round_amount(Decimal(5), "bhd")) == "5.000"


def test_round_amount_rounds_negative_ties_away_from_zero() -> None:
    assert round_amount(Decimal("-1.005"), "usd") == Decimal("-1.01")


def test_round_amount_never_returns_negative_zero() -> None:
    assert str(round_amount(Decimal("-0.001"), "usd")) == "0.00"


def test_round_amount_handles_more_digits_than_the_default_context() -> None:
    # 32 significant digits: the default 28-digit context could not hold the result.
    amount = Decimal("123456789012345678901234567890.125")
    assert round_amount(amount, "usd") == Decimal("123456789012345678901234567890.13")


def test_round_amount_ignores_a_narrow_ambient_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        assert round_amount(Decimal("12345.675"), "usd") == Decimal("12345.68")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_round_amount_rejects_non_finite(bad: str) -> None:
    with pytest.raises(ValidationError):
        round_amount(Decimal(bad), "usd")


def test_zero_amount_has_the_currency_scale() -> None:
    assert str(zero_amount("usd")) == "0.00"
    assert str(zero_amount("jpy")) == "0"


def test_decimal_context_is_wider_than_the_default() -> None:
    assert DECIMAL_CONTEXT.prec >= 60


@pytest.mark.parametrize(
    "value",
    ["0", "0E-30", "1", "0.000000000001", "99999999999999999999", "1.500000000000000000", "1E+5"],
)
def test_values_inside_the_ledger_range_pass(value: str) -> None:
    assert limit_violation(Decimal(value)) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0.0000000000001", "decimal places"),
        ("1234567890.12345678901", "significant digits"),
        ("100000000000000000000", "magnitude"),
        ("-1E+25", "magnitude"),
    ],
)
def test_values_outside_the_ledger_range_name_the_reason(value: str, reason: str) -> None:
    message = limit_violation(Decimal(value))
    assert message is not None
    assert reason in message
