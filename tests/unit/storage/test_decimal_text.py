"""``decimal_text`` writes exactly what ``format(value, "f")`` writes (ADR 0968): SQLite
stores decimals as this text, and readers compare it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.storage.types import decimal_text


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_the_same_text_as_format(value: Decimal) -> None:
    assert decimal_text(value) == format(value, "f")


def test_values_str_writes_with_an_exponent() -> None:
    for text in ("1E+2", "1E-7", "-0E-9", "0E+3", "0.0000001", "-0", "0.000000", "12.3400"):
        value = Decimal(text)
        assert decimal_text(value) == format(value, "f")
