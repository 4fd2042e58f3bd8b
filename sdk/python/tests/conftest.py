"""Shared fixtures of the SDK's unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sdk_testkit import Recorder


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., Any]]:
    from stripemeter import RetryPolicy, StripeMeterClient

    created: list[StripeMeterClient] = []

    def factory(
        recorder: Recorder, urls: Any = "http://127.0.0.1:9", **kw: Any
    ) -> StripeMeterClient:
        kw.setdefault("api_key", "sk_test")
        kw.setdefault("tenant_id", "acme")
        kw.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0))
        client = StripeMeterClient(
            urls, transport=httpx.MockTransport(recorder), sleep=sleeps.append, **kw
        )
        created.append(client)
        return client

    yield factory
    for client in created:
        client.close()
