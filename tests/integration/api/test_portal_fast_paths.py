"""The fast paths of the portal's ``/history`` and ``/upcoming-invoice`` (ADR 0880): the
same bytes as FastAPI's own handler (which still serves any unusual query: an undeclared
parameter makes the fast path decline), FastAPI's 422s, and a cached token whose
revocation (or its minting key's) is refused at once — on the parameterless reads found
by the dispatch table too (ADR 0937)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, mint, seed_billing

FAST = [
    "/portal/v1/history?metric=calls",
    "/portal/v1/history?metric=calls&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&step=hour",
    "/portal/v1/history?metric=calls&step=month&limit=2",
    "/portal/v1/upcoming-invoice",
    "/portal/v1/upcoming-invoice?at=2025-01-20T00:00:00Z",
]


def _declined(path: str) -> str:
    """The same request with an undeclared parameter: FastAPI's handler answers it (and
    ignores the parameter)."""
    return f"{path}{'&' if '?' in path else '?'}unused=1"


@pytest.mark.parametrize("path", FAST)
def test_the_fast_path_answers_as_fastapis_handler_byte_for_byte(api: Api, path: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    fast = as_token(api, token, "GET", path)
    full = as_token(api, token, "GET", _declined(path))
    assert fast.status_code == 200
    assert (fast.content, fast.headers["content-type"]) == (
        full.content,
        full.headers["content-type"],
    )


REFUSED = [
    "/portal/v1/history?metric=nope",
    "/portal/v1/history?metric=calls&step=week",
    "/portal/v1/history?metric=calls&from=yesterday",
    "/portal/v1/history?metric=bad%20code",
    "/portal/v1/upcoming-invoice?at=yesterday",
    "/portal/v1/upcoming-invoice?at=2099-01-01T00:00:00Z",
]


def _problem(answer: Any) -> dict[str, Any]:
    body = dict(answer.json())
    body.pop("instance", None)  # names the request
    body.pop("requestId", None)
    return body


@pytest.mark.parametrize("path", REFUSED)
def test_a_refusal_on_the_fast_path_is_fastapis_handlers(api: Api, path: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    fast = as_token(api, token, "GET", path)
    full = as_token(api, token, "GET", _declined(path))
    assert fast.status_code in (404, 422)
    assert (fast.status_code, fast.headers["content-type"], _problem(fast)) == (
        full.status_code,
        full.headers["content-type"],
        _problem(full),
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "metric"),
        ("metric=calls&limit=0", "limit"),
        ("metric=calls&limit=abc", "limit"),
        ("metric=calls&limit=5001", "limit"),
        ("metric=" + "m" * 256, "metric"),
        ("metric=calls&step=" + "d" * 9, "step"),
    ],
)
def test_a_query_fastapi_refuses_keeps_its_422(api: Api, query: str, field: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    response = as_token(api, token, "GET", f"/portal/v1/history?{query}")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


EVERY_READ = [
    "/portal/v1/history?metric=calls",
    "/portal/v1/upcoming-invoice",
    "/portal/v1/entitlements",
    "/portal/v1/usage",
    "/portal/v1/alerts",
]


@pytest.mark.parametrize("path", EVERY_READ)
def test_a_cached_token_revoked_is_refused_at_once(api: Api, path: str) -> None:
    seed_billing(api)
    minted = mint(api, "cus_a")
    before = as_token(api, minted["token"], "GET", path)  # admitted, now in the cache
    api.client.delete(f"/v1/portal/tokens/{minted['id']}", headers=api.headers())
    after = as_token(api, minted["token"], "GET", path)
    assert (before.status_code, after.status_code, after.json()["code"]) == (
        200,
        401,
        "revoked_portal_token",
    )


@pytest.mark.parametrize("path", EVERY_READ)
def test_revoking_the_minting_key_ends_a_cached_token_at_once(api: Api, path: str) -> None:
    seed_billing(api)
    key = api.new_key({"portal"})
    minted = mint(api, "cus_a", key=key)
    before = as_token(api, minted["token"], "GET", path)
    api.client.delete(f"/v1/admin/api-keys/{minted['mintedBy']}", headers=api.headers())
    after = as_token(api, minted["token"], "GET", path)
    assert (before.status_code, after.status_code, after.json()["code"]) == (
        200,
        401,
        "revoked_portal_token",
    )


def test_a_missing_token_is_401_on_the_fast_path(api: Api) -> None:
    response = api.client.get("/portal/v1/history?metric=calls")
    assert (response.status_code, response.json()["code"]) == (401, "missing_portal_token")


@pytest.mark.parametrize(
    "path",
    ["/portal/v1/usage", "/portal/v1/projection", "/portal/v1/entitlements", "/portal/v1/credits"],
)
def test_a_parameterless_read_ignores_an_unknown_parameter_as_before(api: Api, path: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    plain = as_token(api, token, "GET", path)
    asked = as_token(api, token, "GET", f"{path}?unused=1")
    assert plain.status_code == 200
    assert (plain.content, plain.headers["content-type"]) == (
        asked.content,
        asked.headers["content-type"],
    )
