"""Projection of a period's quantity and cost to its end (domain/projection.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.pricing import Price, PriceModel, Tier
from stripemeter_server.domain.projection import project_line, projected_quantity

D = Decimal
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 31, tzinfo=UTC)  # a 30-day period keeps the ratios readable
HALFWAY = datetime(2025, 1, 16, tzinfo=UTC)


def project(aggregation: str, current: str | None, as_of: datetime) -> Decimal | None:
    value = None if current is None else D(current)
    return projected_quantity(aggregation, value, START, END, as_of)


# --- run rate for sum and count -------------------------------------------------------


def test_sum_halfway_doubles() -> None:
    assert project("sum", "150", HALFWAY) == D(300)


def test_count_after_a_third_triples() -> None:
    assert project("count", "10", START + timedelta(days=10)) == D(30)


def test_non_terminating_ratio_is_rounded_to_twelve_places() -> None:
    # 1 * 30 / 9 = 3.3333...
    assert project("sum", "1", START + timedelta(days=9)) == D("3.333333333333")


def test_projection_rounds_the_twelfth_place_half_up() -> None:
    # 0.000000000001 * 30 / 20 = 0.0000000000015 -> 0.000000000002
    assert project("sum", "0.000000000001", START + timedelta(days=20)) == D("0.000000000002")


def test_projection_drops_trailing_zeros() -> None:
    assert str(project("sum", "1.25", HALFWAY)) == "2.5"


def test_projection_is_exact_to_the_microsecond() -> None:
    # Period of 1 day + 1 µs, 1 day elapsed: 86400000000 * 86400000001 / 86400000000.
    start = START
    end = start + timedelta(days=1, microseconds=1)
    as_of = start + timedelta(days=1)
    result = projected_quantity("sum", D(86_400_000_000), start, end, as_of)
    assert result == D(86_400_000_001)


def test_one_microsecond_into_the_period() -> None:
    as_of = START + timedelta(microseconds=1)
    assert project("count", "1", as_of) == D(30 * 86_400_000_000)


def test_fractional_and_huge_values() -> None:
    assert project("sum", "12345678901234567890.5", HALFWAY) == D("24691357802469135781")


def test_negative_total_projects_its_run_rate() -> None:
    # A net-negative period (after adjustments) extrapolates like any other sum.
    assert project("sum", "-10", HALFWAY) == D(-20)


def test_zero_stays_zero() -> None:
    assert project("sum", "0", HALFWAY) == D(0)


@pytest.mark.parametrize(
    "as_of",
    [START, START - timedelta(days=3), END, END + timedelta(seconds=1)],
    ids=["at-start", "before-start", "at-end", "after-end"],
)
def test_without_a_partial_elapsed_share_the_current_value_stands(as_of: datetime) -> None:
    assert project("sum", "42", as_of) == D(42)


def test_elapsed_time_is_real_time_across_a_dst_change() -> None:
    # March 2025 in Berlin has 31 * 24 - 1 = 743 hours; after 371.5 hours the ratio is 2.
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2025, 3, 1, tzinfo=berlin)
    end = datetime(2025, 4, 1, tzinfo=berlin)
    as_of = (start.astimezone(UTC) + timedelta(hours=371, minutes=30)).astimezone(berlin)
    assert projected_quantity("sum", D(7), start, end, as_of) == D(14)


def test_instants_in_different_offsets_are_compared_as_instants() -> None:
    as_of = HALFWAY.astimezone(timezone(timedelta(hours=-5)))
    assert project("sum", "5", as_of) == D(10)


# --- aggregations that keep their current value ---------------------------------------


@pytest.mark.parametrize("aggregation", ["max", "min", "latest", "unique_count", "avg"])
def test_state_and_rate_aggregations_keep_the_current_value(aggregation: str) -> None:
    assert project(aggregation, "7.5", HALFWAY) == D("7.5")


@pytest.mark.parametrize("aggregation", ["sum", "max", "avg"])
def test_no_value_stays_no_value(aggregation: str) -> None:
    assert project(aggregation, None, HALFWAY) is None


def test_upper_case_aliases_are_understood() -> None:
    assert project("SUM", "1", HALFWAY) == D(2)


def test_unimeter_count_unique_keeps_the_current_value() -> None:
    assert project("COUNT_UNIQUE", "3", HALFWAY) == D(3)


# --- invalid input --------------------------------------------------------------------


def test_unknown_aggregation_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        project("median", "1", HALFWAY)
    assert (info.value.code, info.value.field) == ("invalid_aggregation", "aggregation")


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        projected_quantity("sum", D(1), START, END, datetime(2025, 1, 16))
    assert (info.value.code, info.value.field) == ("invalid_period", "asOf")


@pytest.mark.parametrize("end", [START, START - timedelta(hours=1)], ids=["empty", "reversed"])
def test_period_must_have_positive_length(end: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        projected_quantity("sum", D(1), START, end, HALFWAY)
    assert info.value.code == "invalid_period"


def test_non_finite_current_value_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        project("sum", "NaN", HALFWAY)
    assert info.value.code == "invalid_quantity"


# --- cost of the current and projected quantity ---------------------------------------

# First 1000 free, then 0.01 each.
FREE_TIER = Price(PriceModel.GRADUATED, "usd", tiers=(Tier(D(1000), D(0)), Tier(None, D("0.01"))))


def line(price: Price | None, aggregation: str, current: str | None) -> object:
    value = None if current is None else D(current)
    return project_line(price, aggregation, value, START, END, HALFWAY)


def test_projected_cost_re_prices_the_projected_quantity() -> None:
    result = project_line(FREE_TIER, "sum", D(1000), START, END, HALFWAY)
    assert result.current_quantity == D(1000)
    assert result.projected_quantity == D(2000)
    assert result.current_cost is not None and result.current_cost.amount == D("0.00")
    # 1000 free + 1000 * 0.01; scaling the current cost (0.00) by 2 would say 0.00.
    assert result.projected_cost is not None and result.projected_cost.amount == D("10.00")


def test_projected_cost_respects_volume_discounts() -> None:
    volume = Price(PriceModel.VOLUME, "usd", tiers=(Tier(D(100), D(1)), Tier(None, D("0.5"))))
    result = project_line(volume, "count", D(60), START, END, HALFWAY)
    assert result.current_cost is not None and result.current_cost.amount == D("60.00")
    # 120 units all at 0.50 = 60.00, not 2 * 60.00.
    assert result.projected_cost is not None and result.projected_cost.amount == D("60.00")


def test_projected_cost_of_a_state_aggregation_equals_the_current_cost() -> None:
    price = Price(PriceModel.PER_UNIT, "usd", unit_amount=D(3))
    result = project_line(price, "max", D(4), START, END, HALFWAY)
    assert result.projected_cost == result.current_cost


def test_without_a_price_there_is_no_cost() -> None:
    result = project_line(None, "sum", D(5), START, END, HALFWAY)
    assert (result.current_cost, result.projected_cost) == (None, None)
    assert result.projected_quantity == D(10)


def test_an_empty_period_is_priced_as_zero_usage() -> None:
    price = Price(PriceModel.FLAT, "usd", flat_amount=D(49))
    result = project_line(price, "max", None, START, END, HALFWAY)
    assert result.projected_quantity is None
    assert result.projected_cost is not None and result.projected_cost.amount == D("49.00")


def test_projected_cost_applies_the_maximum() -> None:
    price = Price(PriceModel.PER_UNIT, "usd", unit_amount=D(1), maximum=D(150))
    result = project_line(price, "sum", D(100), START, END, HALFWAY)
    assert result.projected_cost is not None and result.projected_cost.amount == D("150.00")


def test_projection_line_reports_the_canonical_aggregation_name() -> None:
    result = project_line(None, "COUNT_UNIQUE", D(1), START, END, HALFWAY)
    assert result.aggregation == "unique_count"


def test_period_length_is_measured_in_utc_across_the_autumn_fold() -> None:
    # 02:30 CEST (fold=0) to 02:30 CET (fold=1) on 2025-10-26 is one real hour, although the
    # wall clock reads the same; halfway through it, the sum doubles.
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2025, 10, 26, 2, 30, tzinfo=berlin)
    end = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=berlin)
    as_of = (start.astimezone(UTC) + timedelta(minutes=30)).astimezone(berlin)
    assert projected_quantity("sum", D(3), start, end, as_of) == D(6)
