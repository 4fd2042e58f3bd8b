"""Pure aggregation: formulas, window alignment and bucketing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripe_emulator.aggregation import (
    MAX_WINDOWS,
    Bucket,
    UsageEvent,
    aggregate,
    check_range,
    summarize,
    summary_id,
)
from stripe_emulator.errors import StripeError

H = 3600
EVENTS = [
    UsageEvent(100, Decimal("2"), 1),
    UsageEvent(50, Decimal("5"), 2),
    UsageEvent(100, Decimal("3"), 3),
]


def test_sum_adds_values() -> None:
    assert aggregate("sum", EVENTS) == Decimal(10)


def test_count_counts_events() -> None:
    assert aggregate("count", EVENTS) == Decimal(3)


def test_last_prefers_latest_timestamp_then_latest_receipt() -> None:
    assert aggregate("last", EVENTS) == Decimal(3)


def test_empty_window_is_zero() -> None:
    assert aggregate("last", []) == Decimal(0)


def test_minute_misaligned_end_is_rejected() -> None:
    with pytest.raises(StripeError):
        check_range(0, 61, None)


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(StripeError):
        check_range(120, 60, None)


def test_day_window_needs_day_alignment() -> None:
    with pytest.raises(StripeError):
        check_range(H, 86400 + H, "day")


def test_ungrouped_summary_is_one_bucket_even_when_empty() -> None:
    assert summarize("sum", [], 0, H, None) == [Bucket(0, H, Decimal(0))]


def test_hour_buckets_are_oldest_first_and_keep_empty_hours() -> None:
    events = [UsageEvent(10, Decimal(1), 1), UsageEvent(2 * H + 5, Decimal(4), 2)]
    assert summarize("sum", events, 0, 3 * H, "hour") == [
        Bucket(0, H, Decimal(1)),
        Bucket(H, 2 * H, Decimal(0)),
        Bucket(2 * H, 3 * H, Decimal(4)),
    ]


def test_a_range_of_too_many_windows_is_refused() -> None:
    with pytest.raises(StripeError):
        check_range(0, (MAX_WINDOWS + 1) * H, "hour")


def test_summary_ids_are_deterministic() -> None:
    assert summary_id("mtr_1", "cus_1", 0, 60) == summary_id("mtr_1", "cus_1", 0, 60)
    assert summary_id("mtr_1", "cus_1", 0, 60) != summary_id("mtr_1", "cus_2", 0, 60)
