"""Retries, backoff, Retry-After and failover (httpx.MockTransport, no real sleeping)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from sdk_testkit import Recorder, ingest_ok, status
from stripemeter import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    RetryPolicy,
    ServiceUnavailableError,
)
from stripemeter.retry import parse_retry_after

MakeClient = Callable[..., Any]


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("refused")


def test_retries_5xx_with_the_same_body(make_client: MakeClient) -> None:
    rec = Recorder([status(503), status(502), ingest_ok])
    make_client(rec).track("api_calls", "cus_1")
    assert len({r.content for r in rec.requests}) == 1 and len(rec.requests) == 3


def test_retried_event_keeps_its_idempotency_key(make_client: MakeClient) -> None:
    rec = Recorder([status(500), ingest_ok])
    result = make_client(rec).track("api_calls", "cus_1")
    keys = [b["events"][0]["idempotencyKey"] for b in rec.bodies()]
    assert keys == [result.idempotency_key, result.idempotency_key]


def test_network_error_is_retried(make_client: MakeClient) -> None:
    rec = Recorder([httpx.ReadError("reset"), ingest_ok])
    assert make_client(rec).track("api_calls", "cus_1").status == "accepted"


def test_429_sleeps_retry_after(make_client: MakeClient, sleeps: list[float]) -> None:
    rec = Recorder([status(429, {"Retry-After": "7"}), ingest_ok])
    make_client(rec).track("api_calls", "cus_1")
    assert sleeps == [7.0]


def test_retry_after_is_capped(make_client: MakeClient, sleeps: list[float]) -> None:
    rec = Recorder([status(429, {"Retry-After": "3600"}), ingest_ok])
    make_client(rec, retry=RetryPolicy(max_retry_after=30)).track("api_calls", "cus_1")
    assert sleeps == [30.0]


@pytest.mark.parametrize("code", [400, 422])
def test_validation_errors_are_not_retried(make_client: MakeClient, code: int) -> None:
    rec = Recorder([status(code), ingest_ok])
    with pytest.raises(BadRequestError):
        make_client(rec).track("api_calls", "cus_1")
    assert len(rec.requests) == 1


def test_401_raises_authentication_error(make_client: MakeClient) -> None:
    with pytest.raises(AuthenticationError):
        make_client(Recorder([status(401)])).get_usage("cus_1")


def test_409_raises_conflict_with_code(make_client: MakeClient) -> None:
    with pytest.raises(ConflictError) as info:
        make_client(Recorder([status(409)])).get_usage("cus_1")
    assert info.value.code == "c409"


def test_exhausted_5xx_raises_the_last_error(make_client: MakeClient) -> None:
    rec = Recorder([status(503)] * 4)
    with pytest.raises(ServiceUnavailableError):
        make_client(rec).track("api_calls", "cus_1")


def test_exhausted_network_errors_raise_connection_error(make_client: MakeClient) -> None:
    rec = Recorder([connect_error() for _ in range(4)])
    with pytest.raises(APIConnectionError) as info:
        make_client(rec).track("api_calls", "cus_1")
    assert info.value.attempts == 4


def test_exhausted_timeouts_raise_timeout_error(make_client: MakeClient) -> None:
    rec = Recorder([httpx.ReadTimeout("slow") for _ in range(4)])
    with pytest.raises(APITimeoutError):
        make_client(rec).track("api_calls", "cus_1")


def test_fails_over_to_the_next_node(make_client: MakeClient) -> None:
    rec = Recorder([connect_error(), ingest_ok])
    make_client(rec, ["http://127.0.0.1:1", "http://127.0.0.1:2"]).track("api_calls", "cus_1")
    assert [r.url.port for r in rec.requests] == [1, 2]


def test_failover_to_a_fresh_node_does_not_sleep(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    rec = Recorder([connect_error(), ingest_ok])
    make_client(rec, ["http://127.0.0.1:1", "http://127.0.0.1:2"]).track("api_calls", "cus_1")
    assert sleeps == []


def test_failed_node_is_tried_last_by_the_next_call(make_client: MakeClient) -> None:
    rec = Recorder([connect_error(), ingest_ok, ingest_ok, ingest_ok])
    client = make_client(rec, ["http://127.0.0.1:1", "http://127.0.0.1:2"])
    for _ in range(3):  # without the failure, round-robin would start the 3rd call on node 1
        client.track("api_calls", "cus_1")
    assert [r.url.port for r in rec.requests] == [1, 2, 2, 2]


def test_nodes_from_comma_separated_string(make_client: MakeClient) -> None:
    client = make_client(Recorder([]), "http://127.0.0.1:1/, http://127.0.0.1:2")
    assert client.nodes == ["http://127.0.0.1:1", "http://127.0.0.1:2"]


def test_backoff_is_full_jitter_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, rng=random.Random(1))
    delays = [policy.backoff(n) for n in (1, 2, 3, 4, 5) for _ in range(200)]
    ceilings = [min(5.0, 2 ** (n - 1)) for n in (1, 2, 3, 4, 5) for _ in range(200)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_backoff_sleeps_grow_between_attempts_on_one_node(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    rec = Recorder([status(503), status(503), status(503), ingest_ok])
    make_client(rec, retry=RetryPolicy(max_attempts=4, base_delay=0.5, rng=Top())).track(
        "api_calls", "cus_1"
    )
    assert sleeps == [0.5, 1.0, 2.0]


def test_retry_after_http_date() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=12), usegmt=True)
    assert parse_retry_after(header, now) == 12.0


def test_no_retry_policy_makes_one_attempt(make_client: MakeClient) -> None:
    rec = Recorder([status(503), ingest_ok])
    with pytest.raises(ServiceUnavailableError):
        make_client(rec, retry=RetryPolicy.none()).track("api_calls", "cus_1")
