"""The webhook retry schedule: exponential, capped."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.workers.alert_delivery import DeliveryPolicy


def test_retries_double_from_ten_seconds() -> None:
    policy = DeliveryPolicy()
    assert [policy.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]


def test_retries_are_capped_at_an_hour() -> None:
    assert DeliveryPolicy().retry_delay(50) == timedelta(hours=1)


@given(
    st.integers(min_value=1, max_value=500),
    st.integers(min_value=1, max_value=64),
    st.floats(min_value=0.5, max_value=60),
)
def test_the_lease_outlasts_a_pass_where_every_request_times_out(
    batch: int, concurrency: int, timeout: float
) -> None:
    policy = DeliveryPolicy(batch=batch, concurrency=concurrency, timeout_seconds=timeout)
    waves = -(-batch // concurrency)
    assert policy.lease.total_seconds() > waves * timeout
