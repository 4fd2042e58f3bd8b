"""``client.entitlements`` against a real server: check, reserve, commit, release, the cache."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sdk_server import Server
from stripemeter import AsyncClient, ConflictError, StripeMeterClient


def _setup(server: Server, unique: str, limit: str = "100") -> StripeMeterClient:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    httpx.post(f"{server.url}/v1/metrics", json={"code": f"t_{unique}"}, headers=headers)
    httpx.put(
        f"{server.url}/v1/features/f_{unique}",
        json={"type": "metered", "metric": f"t_{unique}"},
        headers=headers,
    )
    httpx.put(
        f"{server.url}/v1/customers/c_{unique}/entitlements/f_{unique}",
        json={"limit": limit},
        headers=headers,
    )
    return StripeMeterClient(server.url, api_key=server.api_key, tenant_id="default")


def test_check_answers_the_balance(shared_server: Server, unique: str) -> None:
    with _setup(shared_server, unique) as client:
        answer = client.entitlements.check(f"c_{unique}", f"f_{unique}", 40)
    assert (answer.allowed, answer.balance) == (True, Decimal(100))


def test_a_committed_reservation_is_usage(shared_server: Server, unique: str) -> None:
    with _setup(shared_server, unique) as client:
        held = client.entitlements.reserve(f"c_{unique}", f"f_{unique}", 40)
        done = client.entitlements.commit(held.id, 25)
        answer = client.entitlements.check(f"c_{unique}", f"f_{unique}")
    assert (done.status, answer.usage, answer.balance) == ("committed", Decimal(25), Decimal(75))


def test_a_reservation_past_the_limit_raises_conflict(shared_server: Server, unique: str) -> None:
    with _setup(shared_server, unique, limit="10") as client, pytest.raises(ConflictError):
        client.entitlements.reserve(f"c_{unique}", f"f_{unique}", 11)


def test_release_frees_the_hold(shared_server: Server, unique: str) -> None:
    with _setup(shared_server, unique) as client:
        held = client.entitlements.reserve(f"c_{unique}", f"f_{unique}", 40)
        client.entitlements.release(held.id)
        answer = client.entitlements.check(f"c_{unique}", f"f_{unique}")
    assert answer.balance == Decimal(100)


def test_the_local_cache_answers_within_its_lifetime(shared_server: Server, unique: str) -> None:
    with _setup(shared_server, unique) as client:
        client.entitlements.cache_seconds = 3600.0
        first = client.entitlements.check(f"c_{unique}", f"f_{unique}")
        client.entitlements.commit(client.entitlements.reserve(f"c_{unique}", f"f_{unique}", 40).id)
        cached = client.entitlements.check(f"c_{unique}", f"f_{unique}")
        client.entitlements.cache_seconds = 0.0
        fresh = client.entitlements.check(f"c_{unique}", f"f_{unique}")
    assert (cached.balance, fresh.balance) == (first.balance, Decimal(60))


def test_the_async_client_reserves_and_commits(shared_server: Server, unique: str) -> None:
    _setup(shared_server, unique).close()

    async def run() -> tuple[str, Decimal | None]:
        async with AsyncClient(
            shared_server.url, api_key=shared_server.api_key, tenant_id="default"
        ) as client:
            held = await client.entitlements.reserve(f"c_{unique}", f"f_{unique}", 30)
            await client.entitlements.commit(held.id)
            answer = await client.entitlements.check(f"c_{unique}", f"f_{unique}")
            return held.status, answer.usage

    assert asyncio.run(run()) == ("held", Decimal(30))
