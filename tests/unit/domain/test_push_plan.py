"""Push arithmetic: Stripe's total never drifts from the ledger by more than half a unit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.push_plan import (
    next_push,
    push_timestamp,
    retry_delay_s,
    to_units,
)
from stripemeter_server.domain.stripe_mapping import MeterFormula

values = st.decimals(
    min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False
)
scales = st.sampled_from([Decimal(1), Decimal(10), Decimal(1000)])
sequences = st.lists(st.one_of(st.none(), values), min_size=1, max_size=30)


@given(sequences, scales)
def test_sum_pushes_track_every_value_within_half_a_unit(
    seq: list[Decimal | None], scale: Decimal
) -> None:
    pushed: int | None = None
    stripe_sum = 0
    for value in seq:
        decision = next_push(value, pushed, MeterFormula.SUM, scale)
        if decision is not None:
            stripe_sum += decision.value
            pushed = decision.pushed_units_after
        assert stripe_sum == to_units(value, scale)
        exact = (value or Decimal(0)) * scale
        assert abs(Decimal(stripe_sum) - exact) <= Decimal("0.5")


@given(sequences, scales)
def test_last_pushes_leave_the_final_value(seq: list[Decimal | None], scale: Decimal) -> None:
    pushed: int | None = None
    last_sent: int | None = None
    for value in seq:
        decision = next_push(value, pushed, MeterFormula.LAST, scale)
        if decision is not None:
            last_sent, pushed = decision.value, decision.pushed_units_after
    if last_sent is not None or seq[-1] is not None:
        assert last_sent == to_units(seq[-1], scale)


@given(
    st.integers(0, 10**10),
    st.integers(0, 10**6),
    st.integers(1, 10**6),
    st.one_of(st.none(), st.integers(0, 10**10)),
    st.booleans(),
)
def test_timestamps_stay_in_the_period_and_never_go_back(
    now: int, start: int, length: int, previous: int | None, strict: bool
) -> None:
    end = start + length
    if previous is not None:
        previous = min(max(previous, start), end - 1)
    at = push_timestamp(now, start, end, previous, strictly_after=strict)
    assert start <= at <= end - 1
    if previous is not None:
        assert at >= previous


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert retry_delay_s(1, 5, 600, 0.0) == 2.5
    assert retry_delay_s(3, 5, 600, 0.999) < 20
    assert retry_delay_s(40, 5, 600, 1.0) == 600
