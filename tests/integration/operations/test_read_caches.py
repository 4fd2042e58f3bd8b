"""Reads admit API keys and portal tokens from per-process caches, and stay as strict as
before: each read's own transaction re-checks the tenant's key stamp (and a portal token's
row), so a key or token revoked on any node is refused by every node that cached it, with
the same 401 body a node that never saw it gives (ADR 0830)."""

from __future__ import annotations

from typing import Any

from tests.integration.operations.conftest import nodes

UNLIMITED: dict[str, Any] = {"rate_limit_per_second": 0.0}
USAGE = ("/v1/usage/current", {"customerRef": "cus_1"})


def _new_key(node: Any) -> Any:
    created = node.call("POST", "/v1/admin/api-keys", json={"scopes": ["admin"]})
    assert created.status_code == 201, created.text
    return created.json()


def _mint(node: Any, key: str) -> Any:
    minted = node.call("POST", "/v1/portal/tokens", key=key, json={"customerRef": "cus_1"})
    assert minted.status_code == 201, minted.text
    return minted.json()


def _read(node: Any, key: str) -> Any:
    path, params = USAGE
    return node.call("GET", path, key=key, params=params)


def _refusal(answer: Any) -> tuple[int, Any]:
    body = dict(answer.json())
    body.pop("instance", None)  # names the request
    body.pop("requestId", None)
    return answer.status_code, body


def test_a_key_revoked_on_one_node_is_refused_by_anothers_cached_read(db_url: str) -> None:
    with nodes(db_url, count=3, **UNLIMITED) as (one, two, fresh):
        created = _new_key(one)
        key = created["key"]
        assert [_read(node, key).status_code for node in (one, two)] == [200, 200]
        assert one.call("DELETE", f"/v1/admin/api-keys/{created['id']}").status_code == 200
        refused = _read(two, key)
        assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")
        assert _refusal(refused) == _refusal(_read(fresh, key))


def test_a_key_revoked_on_one_node_is_refused_by_anothers_cached_read_again(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        created = _new_key(one)
        key = created["key"]
        assert _read(two, key).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{created['id']}").status_code == 200
        assert [_read(two, key).status_code for _ in range(2)] == [401, 401]


def test_a_portal_token_revoked_on_one_node_is_refused_by_anothers_cached_read(db_url: str) -> None:
    with nodes(db_url, count=3, **UNLIMITED) as (one, two, fresh):
        token = _mint(one, _new_key(one)["key"])
        assert _portal(two, token["token"]).status_code == 200  # two's cache holds it
        assert one.call("DELETE", f"/v1/portal/tokens/{token['id']}").status_code in (200, 204)
        refused = _portal(two, token["token"])
        assert (refused.status_code, refused.json()["code"]) == (401, "revoked_portal_token")
        assert _refusal(refused) == _refusal(_portal(fresh, token["token"]))


def test_a_portal_token_ends_on_every_node_when_its_minting_key_is_revoked(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        created = _new_key(one)
        token = _mint(one, created["key"])["token"]
        assert _portal(two, token).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{created['id']}").status_code == 200
        refused = _portal(two, token)
        assert (refused.status_code, refused.json()["code"]) == (401, "revoked_portal_token")


def test_another_customers_cached_token_never_reads_this_customer(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, _):
        key = _new_key(one)["key"]
        mine = _mint(one, key)["token"]
        other = one.call(
            "POST", "/v1/portal/tokens", key=key, json={"customerRef": "cus_2"}
        ).json()["token"]
        for token in (mine, other, mine, other):  # both cached, read in turn
            body = _portal(one, token, "/portal/v1/projection").json()
            assert body["customerRef"] == ("cus_1" if token == mine else "cus_2")


def _portal(node: Any, token: str, path: str = "/portal/v1/usage") -> Any:
    return node.http.get(path, headers={"Authorization": f"Bearer {token}"})
