"""Leased slices of a shared rate-limit bucket (ADR 0887): however processes interleave, no
more requests are admitted than the bucket allows (its burst plus its refill), and a
process holds at most one lease's tokens, for at most one lease period."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.token_bucket import BucketLimits, lease, lease_size
from stripemeter_server.service.operations.leases import LeasedBuckets


class SharedRow:
    """The tenant's row as ``admission.lease_shared`` treats it, on a test clock."""

    def __init__(self, limits: BucketLimits, clock: list[float]) -> None:
        self.limits, self.clock = limits, clock
        self.tokens, self.at = limits.burst, 0.0

    def lease(self, returned: float, wanted: int) -> int:
        got = lease(self.limits, self.tokens, self.clock[0] - self.at, returned, wanted)
        self.tokens, self.at = got.tokens, self.clock[0]
        return got.granted


def admit(process: LeasedBuckets, row: SharedRow) -> bool:
    """What ``deps._take_leased`` does for one request."""
    if process.take("t"):
        return True
    returned = process.release("t")
    granted = row.lease(returned, lease_size(row.limits, process.lease_seconds))
    process.hold("t", granted - 1)
    return granted > 0


@given(
    rate=st.sampled_from([0.001, 1.0, 10.0, 100.0]),
    burst=st.sampled_from([1.0, 3.0, 40.0, 200.0]),
    steps=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 0.2)), min_size=1, max_size=300),
)
def test_processes_never_admit_more_than_the_bucket_allows(
    rate: float, burst: float, steps: list[tuple[int, float]]
) -> None:
    clock = [0.0]
    row = SharedRow(BucketLimits(rate, burst), clock)
    processes = [LeasedBuckets(lambda: clock[0]) for _ in range(3)]
    admitted = 0
    for which, pause in steps:
        clock[0] += pause
        admitted += admit(processes[which], row)
    assert admitted <= burst + rate * clock[0] + 1e-9


def test_a_slow_bucket_leases_one_token_at_a_time() -> None:
    assert lease_size(BucketLimits(0.001, 200), 0.25) == 1
    assert lease_size(BucketLimits(100, 200), 0.25) == 20
    assert lease_size(BucketLimits(10, 200), 0.25) == 2


def test_unspent_tokens_of_an_expired_lease_go_back_to_the_row() -> None:
    clock = [0.0]
    row = SharedRow(BucketLimits(16, 400), clock)  # leases of 4 (16 tokens/s x 0.25 s)
    row.tokens = 100.0
    one = LeasedBuckets(lambda: clock[0])
    assert admit(one, row) and row.tokens == 96  # took 4, spent 1, holds 3
    clock[0] = 0.3  # the lease has expired: its 3 unspent tokens may not be spent
    assert not one.take("t")
    assert admit(one, row)  # they went back (96 + 4.8 refilled + 3), then 4 more left
    assert row.tokens == pytest.approx(99.8)


def test_an_empty_row_refuses_with_the_time_until_a_token_is_back() -> None:
    got = lease(BucketLimits(0.5, 4), 0.0, 0.0, 0.0, 4)
    assert (got.granted, got.retry_after_seconds) == (0, 2)
