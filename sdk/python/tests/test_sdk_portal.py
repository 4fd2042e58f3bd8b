"""client.portal: the minting request the SDK sends and the token it returns (sync, async)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from sdk_testkit import Recorder
from stripemeter import AsyncClient, PortalToken, RetryPolicy

MINTED = {
    "id": "ptk_1",
    "token": "smp_ptk_1.secret",
    "customerRef": "cus_1",
    "metrics": ["api_calls"],
    "scopes": ["usage:read"],
    "mintedBy": "key_1",
    "createdAt": "2025-01-16T14:30:00.000000Z",
    "expiresAt": "2025-01-16T15:30:00.000000Z",
}


def minted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json=MINTED)


def test_create_token_sends_the_customer_metrics_and_expiry(
    make_client: Callable[..., Any],
) -> None:
    rec = Recorder([minted])
    make_client(rec).portal.create_token("cus_1", metrics=["api_calls"], expires_in=3600)
    assert (rec.requests[0].url.path, rec.bodies()[0]) == (
        "/v1/portal/tokens",
        {"customerRef": "cus_1", "metrics": ["api_calls"], "expiresIn": 3600},
    )


def test_create_token_returns_the_token(make_client: Callable[..., Any]) -> None:
    token = make_client(Recorder([minted])).portal.create_token("cus_1")
    assert token == PortalToken(
        "ptk_1",
        "smp_ptk_1.secret",
        "cus_1",
        ["api_calls"],
        ["usage:read"],
        "2025-01-16T15:30:00.000000Z",
        "key_1",
    )


def test_revoke_token_deletes_it(make_client: Callable[..., Any]) -> None:
    rec = Recorder([lambda request: httpx.Response(204)])
    make_client(rec).portal.revoke_token("ptk_1")
    assert (rec.requests[0].method, rec.requests[0].url.path) == (
        "DELETE",
        "/v1/portal/tokens/ptk_1",
    )


def test_the_async_client_mints_the_same_way() -> None:
    rec = Recorder([minted])

    async def run() -> PortalToken:
        async with AsyncClient(
            "http://127.0.0.1:9",
            api_key="sk_test",
            transport=httpx.MockTransport(rec),
            retry=RetryPolicy(max_attempts=1),
        ) as client:
            return await client.portal.create_token("cus_1", scopes=["alerts:write"])

    assert asyncio.run(run()).token == "smp_ptk_1.secret"
    assert json.loads(rec.requests[0].content) == {
        "customerRef": "cus_1",
        "scopes": ["alerts:write"],
    }
