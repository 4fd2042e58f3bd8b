"""Canonical quantity/ts rules and local stamping beyond the shared vectors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from stripemeter import Event, canonical_quantity, canonical_ts, compute_idempotency_key
from stripemeter.idempotency import stamp_now, to_decimal


def test_float_quantity_goes_through_its_shortest_text() -> None:
    assert canonical_quantity(0.1) == "0.1"


def test_decimal_quantity_keeps_all_digits() -> None:
    assert canonical_quantity(Decimal("12345678901234567890.123456789012")) == (
        "12345678901234567890.123456789012"
    )


def test_negative_zero_with_fraction_is_zero() -> None:
    assert canonical_quantity("-0.000") == "0"


def test_bool_quantity_refused() -> None:
    with pytest.raises(TypeError):
        to_decimal(True)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-inf", "abc", ""])
def test_non_finite_or_garbage_quantity_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_naive_datetime_is_utc() -> None:
    assert canonical_ts(datetime(2025, 1, 16, 14, 30)) == "2025-01-16T14:30:00.000000Z"


def test_aware_datetime_converted_to_utc() -> None:
    ts = datetime(2025, 1, 16, 15, 30, 0, 7, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_ts(ts) == "2025-01-16T14:30:00.000007Z"


def test_malformed_ts_refused() -> None:
    with pytest.raises(ValueError):
        canonical_ts("2025-01-16 14:30")


def test_stamps_strictly_increase() -> None:
    stamps = [stamp_now() for _ in range(2000)]
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_identical_events_created_back_to_back_get_distinct_keys() -> None:
    events = [Event("api_calls", "cus_1") for _ in range(500)]
    keys = {compute_idempotency_key("acme", e.metric, e.customer_ref, e.ts) for e in events}
    assert len(keys) == 500


def test_event_default_ts_is_utc_now() -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert Event("m", "c").ts >= before


def test_key_depends_on_tenant() -> None:
    args = ("api_calls", "cus_1", "2025-01-16T14:30:00Z")
    assert compute_idempotency_key("a", *args) != compute_idempotency_key("b", *args)
