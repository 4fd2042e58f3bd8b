"""The webhook retry schedule: exponential, capped."""

from __future__ import annotations

from datetime import timedelta

from stripemeter_server.workers.alert_delivery import DeliveryPolicy


def test_retries_double_from_ten_seconds() -> None:
    policy = DeliveryPolicy()
    assert [policy.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]


def test_retries_are_capped_at_an_hour() -> None:
    assert DeliveryPolicy().retry_delay(50) == timedelta(hours=1)
