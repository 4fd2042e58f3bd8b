"""The periods kept by ``service/usage/steps.py`` (ADR 0967) are the ones computed afresh:
the period containing an instant, whatever instants came before it (forwards, backwards,
across period ends and clock changes), and a history's buckets and grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import (
    PeriodSpec,
    PeriodType,
    period_containing,
    periods_overlapping,
)
from stripemeter_server.service.usage.steps import history_buckets, period_at, step_grid

BASE = datetime(2025, 1, 1, tzinfo=UTC)
SPECS = [
    PeriodSpec(PeriodType.MONTH),
    PeriodSpec(PeriodType.MONTH, 10, "America/New_York"),
    PeriodSpec(PeriodType.DAY, 1, "Europe/Berlin"),
    PeriodSpec(PeriodType.HOUR),
]
instants = st.integers(0, 400 * 86_400).map(lambda s: BASE + timedelta(seconds=s))


@given(st.lists(st.tuples(st.sampled_from(SPECS), instants), min_size=1, max_size=40))
def test_the_period_at_an_instant_is_the_one_computed_afresh(
    reads: list[tuple[PeriodSpec, datetime]],
) -> None:
    for spec, instant in reads:
        assert period_at(spec, instant) == period_containing(spec, instant)


@given(st.sampled_from(SPECS[1:]), instants, st.integers(3600, 40 * 86_400))
def test_a_historys_buckets_are_the_ones_computed_afresh(
    spec: PeriodSpec, start: datetime, seconds: int
) -> None:
    end = start + timedelta(seconds=seconds)
    try:
        expected = periods_overlapping(spec, start, end, limit=200, field="step")
    except ValidationError as error:
        with pytest.raises(ValidationError) as again:
            history_buckets(spec, start, end, 200)
        assert (again.value.code, again.value.field) == (error.code, error.field)
        return
    buckets, grid = history_buckets(spec, start, end, 200)
    assert list(buckets) == expected and grid == step_grid(expected)
