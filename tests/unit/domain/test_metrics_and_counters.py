"""Metric definitions and the counter arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.counters import Contribution, CounterState
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import (
    Aggregation,
    MetricValueError,
    metric_from_dict,
    metric_to_dict,
)


def test_a_metric_round_trips_through_its_api_shape() -> None:
    metric = metric_from_dict(
        {
            "code": "gb",
            "aggregation": "max",
            "valueProperty": "meta.gb",
            "filter": {"meta.region": "eu"},
            "period": {"type": "day", "timezone": "Europe/Berlin"},
            "latenessWindow": "PT2H",
            "latePolicy": "reject",
        }
    )
    assert metric_from_dict(metric_to_dict(metric)) == metric


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("COUNT", "count"),
        ("SUM", "sum"),
        ("MAX", "max"),
        ("LATEST", "latest"),
        ("COUNT_UNIQUE", "unique_count"),
    ],
)
def test_unimeter_aliases(alias: str, expected: str) -> None:
    assert metric_from_dict({"code": "m", "aggregation": alias}).aggregation.value == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "m", "aggregation": "median"}, "aggregation"),
        ({"code": "m", "valueProperty": "resourceId"}, "valueProperty"),
        ({"code": "m", "latenessWindow": "P1M"}, "latenessWindow"),
        ({"code": "m", "latePolicy": "drop"}, "latePolicy"),
        ({"code": "m", "period": {"type": "year"}}, "period.type"),
        ({"code": "m", "filter": {"region": "eu"}}, "filter.region"),
    ],
)
def test_invalid_definitions_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        metric_from_dict(body)
    assert info.value.field == field


def test_the_value_comes_from_meta_when_configured() -> None:
    metric = metric_from_dict({"code": "m", "valueProperty": "meta.usage.tokens"})
    assert metric.value_of(Decimal(1), {"usage": {"tokens": "12.5"}}) == Decimal("12.5")


def test_a_missing_meta_value_is_an_error() -> None:
    metric = metric_from_dict({"code": "m", "valueProperty": "meta.tokens"})
    with pytest.raises(MetricValueError):
        metric.value_of(Decimal(1), {"other": 1})


def test_filters_compare_json_values() -> None:
    metric = metric_from_dict({"code": "m", "filter": {"meta.region": "eu"}})
    assert (metric.matches(None, {"region": "eu"}), metric.matches(None, {"region": "us"})) == (
        True,
        False,
    )


def test_an_empty_counter_has_zero_count_and_null_max() -> None:
    state = CounterState()
    assert (
        state.value(Aggregation.COUNT),
        state.value(Aggregation.SUM),
        state.value(Aggregation.MAX),
        state.value(Aggregation.AVG),
    ) == (Decimal(0), Decimal(0), None, None)


def test_adjustments_add_to_the_value() -> None:
    state = CounterState()
    state.apply(Contribution(Decimal(5), 1, "a"))
    state.adjustments = Decimal(-2)
    assert state.value(Aggregation.SUM) == Decimal(3)


contributions = st.lists(
    st.tuples(st.decimals(0, 1000, places=2), st.integers(0, 10**6), st.booleans()), max_size=30
).map(
    # every event has its own idempotency key, as in the ledger
    lambda rows: [Contribution(v, ts, f"k{i}", new) for i, (v, ts, new) in enumerate(rows)]
)


@given(items=contributions, seed=st.randoms())
def test_folding_is_independent_of_order(items: list[Contribution], seed) -> None:  # type: ignore[no-untyped-def]
    one, other = CounterState(), CounterState()
    for item in items:
        one.apply(item)
    shuffled = items[:]
    seed.shuffle(shuffled)
    for item in shuffled:
        other.apply(item)
    assert [one.aggregate(a) for a in Aggregation] == [other.aggregate(a) for a in Aggregation]
