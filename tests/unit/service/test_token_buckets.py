"""The token-bucket arithmetic shared by the per-tenant rate limit and the pusher's limit."""

from __future__ import annotations

from stripemeter_server.domain.token_bucket import BucketLimits, refill, take
from stripemeter_server.service.stripe_sync.rate_limit import TokenBucket


def test_refill_adds_rate_times_elapsed_up_to_the_burst() -> None:
    assert (refill(1.0, 2.0, 3.0, 10.0), refill(9.0, 2.0, 3.0, 10.0)) == (7.0, 10.0)


def test_a_clock_stepping_back_refills_nothing() -> None:
    assert refill(2.0, -5.0, 3.0, 10.0) == 2.0


def test_an_empty_bucket_refuses_and_says_when_a_token_is_back() -> None:
    decision = take(BucketLimits(rate=0.5, burst=4), 0.0, 0.0)
    assert (decision.allowed, decision.retry_after_seconds) == (False, 2)


def test_a_bucket_with_a_token_allows_and_keeps_the_rest() -> None:
    decision = take(BucketLimits(rate=1, burst=4), 2.5, 0.0)
    assert (decision.allowed, decision.tokens) == (True, 1.5)


def test_the_pusher_bucket_waits_until_the_tokens_are_back() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    bucket = TokenBucket(2.0, 2.0, monotonic=lambda: clock[0], sleep=sleep)
    bucket.acquire(2.0)
    bucket.acquire(1.0)
    assert slept == [0.5]
