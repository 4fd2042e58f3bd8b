"""The entitlement fast paths and current usage admit keys from the process's key cache
(ADR 0860, after ADR 0830): a key revoked on one node is refused by every node that cached
it — reads and reservations alike — with the 401 a node that never saw it gives, and a
refused reservation holds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.operations.conftest import nodes

UNLIMITED = {"rate_limit_per_second": 0.0}
SETUP = [
    ("POST", "/v1/metrics", {"code": "calls", "aggregation": "sum"}),
    ("PUT", "/v1/features/calls", {"type": "metered", "metric": "calls"}),
    ("PUT", "/v1/customers/cus_1/entitlements/calls", {"limit": "100", "enforcement": "hard"}),
]


def _hold(key: str) -> dict[str, Any]:
    return {"customerRef": "cus_1", "feature": "calls", "quantity": "1", "idempotencyKey": key}


CALLS: dict[str, tuple[str, str, Any]] = {
    "entitlement": ("GET", "/v1/customers/cus_1/entitlements/calls", None),
    "check": ("POST", "/v1/entitlements/check", {"customerRef": "cus_1", "feature": "calls"}),
    "reserve": ("POST", "/v1/entitlements/reservations", None),
    "current": ("GET", "/v1/usage/current?customerRef=cus_1", None),
}


def _call(node: Any, name: str, key: str, hold_key: str) -> Any:
    method, path, body = CALLS[name]
    if name == "reserve":
        body = _hold(hold_key)
    return node.call(method, path, key=key, json=body)


def _refusal(answer: Any) -> tuple[int, Any]:
    body = dict(answer.json())
    body.pop("instance", None)  # names the request
    body.pop("requestId", None)
    return answer.status_code, body


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_key_revoked_on_one_node_is_refused_by_anothers_fast_path(db_url: str, name: str) -> None:
    with nodes(db_url, count=3, **UNLIMITED) as (one, two, fresh):
        assert (
            one.call(
                "POST", "/v1/metrics", json={"code": "calls", "aggregation": "sum"}
            ).status_code
            == 201
        )
        for method, path, body in SETUP:
            assert one.call(method, path, json=body).status_code in (200, 201)
        created = one.call("POST", "/v1/admin/api-keys", json={"scopes": ["read", "ingest"]})
        key, key_id = created.json()["key"], created.json()["id"]
        assert _call(two, name, key, "first").status_code in (200, 201)  # two caches the key
        assert one.call("DELETE", f"/v1/admin/api-keys/{key_id}").status_code == 200
        refused = _call(two, name, key, "second")
        assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")
        assert _refusal(refused) == _refusal(_call(fresh, name, key, "third"))
        held = one.call("GET", "/v1/customers/cus_1/entitlements/calls").json()["reserved"]
        assert held == ("1" if name == "reserve" else "0")  # only the admitted hold
