"""Which periods a run compares: a month selects the periods starting in it (in the period's
own time zone), an instant the period holding it; the period just ended stays in a default
run while it is open or its invoice is a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import PeriodSpec, PeriodType
from stripemeter_server.domain.reconciliation_scope import (
    PeriodSelector,
    default_periods,
    parse_period_selector,
    previous_in_scope,
    selected_periods,
)

MONTHLY_15 = PeriodSpec(PeriodType.MONTH, 15, "UTC")
NOW = datetime(2026, 1, 20, tzinfo=UTC)


def _selector(raw: str) -> PeriodSelector:
    """A selector the test knows is valid (``parse_period_selector`` answers None only for
    None)."""
    found = parse_period_selector(raw)
    assert found is not None
    return found


def test_a_month_selects_the_one_monthly_period_starting_in_it_whatever_the_anchor() -> None:
    found = selected_periods(MONTHLY_15, _selector("2026-01"))
    assert [(p.start.day, p.start.month, p.end.month) for p in found] == [(15, 1, 2)]


def test_a_month_is_read_in_the_periods_time_zone() -> None:
    spec = PeriodSpec(PeriodType.MONTH, 1, "America/New_York")
    (period,) = selected_periods(spec, _selector("2026-01"))
    assert period.start == datetime(2026, 1, 1, 5, tzinfo=UTC)


def test_a_month_of_a_daily_metric_selects_every_day() -> None:
    spec = PeriodSpec(PeriodType.DAY, 1, "UTC")
    assert len(selected_periods(spec, _selector("2026-02"))) == 28


def test_an_instant_selects_the_period_holding_it() -> None:
    (period,) = selected_periods(MONTHLY_15, _selector("2026-01-10T00:00:00Z"))
    assert (period.start, period.end) == (
        datetime(2025, 12, 15, tzinfo=UTC),
        datetime(2026, 1, 15, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "raw",
    ["2026-13", "2026-1", "0999-01", "9000-01", "", 202601, "2026-01-01", "0999-12-31T00:00:00Z"],
)
def test_anything_else_is_refused_naming_the_field(raw: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_period_selector(raw)
    assert info.value.field == "period"


@given(st.text(max_size=40))
def test_the_parser_returns_a_selector_or_refuses(raw: str) -> None:
    try:
        parse_period_selector(raw)
    except ValidationError as exc:
        assert exc.field == "period"


def test_the_period_just_ended_stays_while_open_or_its_invoice_is_a_draft() -> None:
    _, previous = default_periods(MONTHLY_15, NOW)
    lateness = timedelta(hours=48)
    assert [
        previous_in_scope(previous, at, lateness, locked=locked, invoice_draft=draft)
        for at, locked, draft in [
            (previous.end + timedelta(hours=47), False, False),
            (previous.end + timedelta(hours=49), False, False),
            (previous.end + timedelta(hours=1), True, False),
            (previous.end + timedelta(days=3), True, True),
        ]
    ] == [True, False, False, True]
