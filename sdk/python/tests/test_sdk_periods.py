"""Billing periods: month anchors clamp to the last day of shorter months."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from stripemeter import BillingPeriod, current_billing_period, last_billing_period


def d(y: int, m: int, day: int, h: int = 0) -> datetime:
    return datetime(y, m, day, h, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "now", "expected"),
    [
        (1, d(2025, 1, 16), BillingPeriod(d(2025, 1, 1), d(2025, 2, 1))),
        (1, d(2025, 12, 31, 23), BillingPeriod(d(2025, 12, 1), d(2026, 1, 1))),
        (15, d(2025, 3, 14), BillingPeriod(d(2025, 2, 15), d(2025, 3, 15))),
        (15, d(2025, 3, 15), BillingPeriod(d(2025, 3, 15), d(2025, 4, 15))),
        (31, d(2025, 2, 28), BillingPeriod(d(2025, 2, 28), d(2025, 3, 31))),
        (31, d(2025, 2, 27), BillingPeriod(d(2025, 1, 31), d(2025, 2, 28))),
        (31, d(2024, 2, 29), BillingPeriod(d(2024, 2, 29), d(2024, 3, 31))),
        (30, d(2025, 4, 30), BillingPeriod(d(2025, 4, 30), d(2025, 5, 30))),
        (31, d(2025, 1, 5), BillingPeriod(d(2024, 12, 31), d(2025, 1, 31))),
    ],
)
def test_current_period(anchor: int, now: datetime, expected: BillingPeriod) -> None:
    assert current_billing_period(anchor, now) == expected


def test_last_period_precedes_current() -> None:
    assert last_billing_period(31, d(2025, 3, 10)) == BillingPeriod(d(2025, 1, 31), d(2025, 2, 28))


def test_period_contains_its_start_not_its_end() -> None:
    period = current_billing_period(1, d(2025, 5, 5))
    assert (period.start in period, period.end in period) == (True, False)


@pytest.mark.parametrize("anchor", [0, 32])
def test_anchor_out_of_range(anchor: int) -> None:
    with pytest.raises(ValueError):
        current_billing_period(anchor)
