"""The dashboard's number and money filters: exact decimals, per-currency minor units."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api.ui.render import format_money, format_number, format_unit_price


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=6,
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
    )
)
def test_a_number_keeps_every_digit(value: Decimal) -> None:
    assert Decimal(format_number(str(value)).replace(",", "")) == value


def test_thousands_are_grouped_without_float_error() -> None:
    assert format_number("1234567.10000000000000000001") == "1,234,567.10000000000000000001"


def test_usd_has_two_decimals() -> None:
    assert format_money("1234.5", "usd") == "1,234.50 USD"


def test_jpy_has_none() -> None:
    assert format_money("1234", "jpy") == "1,234 JPY"


def test_a_missing_amount_is_a_dash() -> None:
    assert format_money(None, "usd") == "—"


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=8,
        min_value=Decimal("0"),
        max_value=Decimal("1e9"),
    )
)
def test_a_unit_price_is_never_rounded(value: Decimal) -> None:
    shown = format_unit_price(str(value), "usd")
    assert Decimal(shown.removesuffix(" USD").replace(",", "")) == value


def test_a_unit_price_is_padded_to_the_currencys_minor_unit() -> None:
    assert format_unit_price("12.5", "usd") == "12.50 USD"


def test_a_sub_cent_unit_price_keeps_its_digits() -> None:
    assert format_unit_price("0.002", "usd") == "0.002 USD"
