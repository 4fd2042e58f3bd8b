"""The SQLite functions of the set-based push plan (ADR 0985) are the domain's arithmetic and
identifier: whole amounts take integer arithmetic, other amounts ``Decimal``'s, and both
give what ``to_units`` gives from ``CounterState.value``, past 2⁶³ too."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.domain.push_plan import push_identifier, to_units
from stripemeter_server.storage.sqlite.push_functions import push_delta, push_id, push_units

amounts = st.one_of(
    st.integers(-(10**21), 10**21).map(Decimal),
    st.decimals(min_value=-(10**9), max_value=10**9, places=4),
)


def _text(value: Decimal) -> str:
    return format(value, "f")  # as ``ExactDecimal`` stores it on SQLite


@given(base=amounts, adjustments=amounts, late_out=amounts, precision=st.integers(0, 4))
def test_units_are_the_domain_units_of_the_value(
    base: Decimal, adjustments: Decimal, late_out: Decimal, precision: int
) -> None:
    scale = Decimal(10) ** precision
    state = CounterState(sum=base, adjustments=adjustments, late_out=late_out)
    expected = to_units(state.value(Aggregation.SUM), scale)
    assert push_units(_text(base), _text(adjustments), _text(late_out), str(scale)) == str(expected)


@given(count=st.integers(0, 2**62), adjustments=amounts, late_out=amounts)
def test_a_count_stored_as_an_integer_gives_the_same_units(
    count: int, adjustments: Decimal, late_out: Decimal
) -> None:
    state = CounterState(count=count, adjustments=adjustments, late_out=late_out)
    expected = to_units(state.value(Aggregation.COUNT), Decimal(1))
    assert push_units(count, _text(adjustments), _text(late_out), "1") == str(expected)


@given(after=st.integers(-(10**22), 10**22), pushed=st.one_of(st.none(), st.integers()))
def test_the_delta_is_none_only_when_nothing_changes(after: int, pushed: int | None) -> None:
    delta = after - (pushed or 0)
    stored = None if pushed is None else str(pushed)
    assert push_delta(str(after), stored) == (str(delta) if delta else None)
    if pushed is not None:
        assert push_delta(str(after), f"{pushed}.0") == push_delta(str(after), stored)


@given(
    tenant=st.text(), metric=st.text(), customer=st.text(), start=st.integers(), seq=st.integers()
)
def test_the_identifier_is_push_identifier(
    tenant: str, metric: str, customer: str, start: int, seq: int
) -> None:
    assert push_id(tenant, metric, customer, start, seq) == push_identifier(
        tenant, metric, customer, start, seq
    )
