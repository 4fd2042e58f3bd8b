"""The one CSV cell rule: nothing a spreadsheet runs, plain numbers kept, exactly undone."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.csv_cells import FORMULA_STARTS, restored_cell, safe_cell


@given(st.text())
def test_no_safe_cell_starts_a_formula_unless_it_is_a_plain_number(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    if cell.startswith(FORMULA_STARTS):
        assert Decimal(cell) == Decimal(text)


@given(st.text())
def test_the_escape_is_undone_exactly(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str) and restored_cell(cell) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_a_negative_decimal_stays_a_number(value: Decimal) -> None:
    assert safe_cell(f"{value:f}") == f"{value:f}"


def test_each_formula_start_is_quoted() -> None:
    assert [safe_cell(start + "1+1") for start in FORMULA_STARTS] == [
        "'" + start + "1+1" for start in FORMULA_STARTS
    ]


def test_a_minus_that_is_not_a_plain_number_is_quoted() -> None:
    assert (safe_cell("-1+1"), safe_cell("-cmd"), safe_cell("-1e5")) == ("'-1+1", "'-cmd", "'-1e5")


def test_non_strings_pass_through() -> None:
    assert (safe_cell(-5), safe_cell(Decimal("-2.5"))) == (-5, Decimal("-2.5"))
