"""Models: Unimeter aliases, metric bodies, response parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from stripemeter import (
    AggregateValues,
    AggType,
    Event,
    IngestResult,
    MetricSchema,
    PeriodType,
    Projection,
    Usage,
    UsageQueryResult,
)


def test_unimeter_event_maps_to_native_fields() -> None:
    event = Event(account_id=1, metric_code="api_calls", value=3)
    assert (event.customer_ref, event.metric, event.quantity) == ("1", "api_calls", Decimal(3))


def test_event_refuses_both_names_for_one_field() -> None:
    with pytest.raises(TypeError):
        Event(metric="a", metric_code="b", customer_ref="c")


def test_event_needs_a_customer() -> None:
    with pytest.raises(ValueError):
        Event(metric="a")


def test_empty_meta_is_none() -> None:
    assert Event("m", "c", meta={}).meta is None


@pytest.mark.parametrize(
    ("member", "wire"),
    [
        (AggType.COUNT, "count"),
        (AggType.SUM, "sum"),
        (AggType.MAX, "max"),
        (AggType.MIN, "min"),
        (AggType.LATEST, "latest"),
        (AggType.COUNT_UNIQUE, "unique_count"),
        (AggType.AVG, "avg"),
    ],
)
def test_agg_type_wire_names(member: AggType, wire: str) -> None:
    assert MetricSchema("m", agg_type=member).to_json()["aggregation"] == wire


def test_calendar_period_carries_the_billing_cycle_day() -> None:
    body = MetricSchema("m", period_type=PeriodType.CALENDAR, billing_cycle_day=15).to_json()
    assert body["period"] == {"type": "month", "anchorDay": 15, "timezone": "UTC"}


def test_day_period_has_no_anchor() -> None:
    assert MetricSchema("m", period_type=PeriodType.DAY).to_json()["period"] == {
        "type": "day",
        "timezone": "UTC",
    }


def test_query_result_values_are_typed() -> None:
    result = UsageQueryResult.from_json(
        {
            "customerRef": "1",
            "metric": "m",
            "start": "2025-01-01T00:00:00Z",
            "end": "2025-02-01T00:00:00Z",
            "value": {
                "count": 3,
                "sum": "3.50",
                "max": "2",
                "min": "0.5",
                "latest": "1",
                "uniqueCount": 0,
                "avg": "1.1666",
            },
        }
    )
    assert result.value == AggregateValues(
        3, Decimal("3.50"), Decimal(2), Decimal("0.5"), Decimal(1), 0, Decimal("1.1666")
    )


def test_empty_window_aggregates_are_none() -> None:
    value = AggregateValues.from_json(
        {
            "count": 0,
            "sum": "0",
            "max": None,
            "min": None,
            "latest": None,
            "uniqueCount": 0,
            "avg": None,
        }
    )
    assert (value.max, value.min, value.latest, value.avg) == (None, None, None, None)


def test_ingest_result_merge_keeps_order_and_counts() -> None:
    a = IngestResult.from_json(
        {
            "accepted": 1,
            "duplicates": 0,
            "rejected": 0,
            "results": [{"index": 0, "idempotencyKey": "k0", "status": "accepted"}],
        }
    )
    b = IngestResult.from_json(
        {
            "accepted": 0,
            "duplicates": 1,
            "rejected": 0,
            "results": [{"index": 0, "idempotencyKey": "k1", "status": "duplicate"}],
        },
        index_offset=1,
    )
    merged = IngestResult.merge([a, b])
    assert ([r.index for r in merged.results], merged.stored) == ([0, 1], 2)


def test_usage_lookup_by_metric() -> None:
    usage = Usage.from_json(
        {
            "customerRef": "c",
            "asOf": "2025-01-01T00:00:00Z",
            "metrics": [
                {
                    "metric": "m",
                    "aggregation": "sum",
                    "unit": None,
                    "value": "4.2",
                    "periodStart": "2025-01-01T00:00:00Z",
                    "periodEnd": "2025-02-01T00:00:00Z",
                    "status": "open",
                }
            ],
        }
    )
    assert usage["m"].value == Decimal("4.2")


def test_usage_times_are_aware_utc() -> None:
    usage = Usage.from_json(
        {"customerRef": "c", "asOf": "2025-01-01T01:00:00+01:00", "metrics": []}
    )
    assert usage.as_of == datetime(2025, 1, 1, tzinfo=UTC)


def test_projection_totals_are_decimals() -> None:
    projection = Projection.from_json(
        {
            "subtotal": "1.00",
            "projectedSubtotal": "2.00",
            "credits": "0",
            "total": "2.00",
            "currency": "usd",
            "asOf": None,
            "metrics": [],
        }
    )
    assert projection.total == Decimal("2.00")
