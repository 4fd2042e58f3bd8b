"""Helpers of the portal API tests: a customer's usage, entitlements and credit, minting,
calling with a token."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api

ORIGIN = "https://app.example.com"


def seed(api: Api) -> None:
    """Two metrics with prices, usage of customers ``cus_a`` and ``cus_b``."""
    for code in ("calls", "storage"):
        assert api.post("/v1/metrics", {"code": code, "aggregation": "sum"}).status_code == 201
        api.client.put(
            f"/v1/prices/{code}",
            json={"model": "per_unit", "currency": "usd", "unitAmount": "0.01"},
            headers=api.headers(),
        )
    events = [
        {
            "metric": m,
            "customerRef": c,
            "quantity": q,
            "ts": "2025-01-16T10:00:00Z",
            "idempotencyKey": f"{m}-{c}",
        }
        for m, c, q in [
            ("calls", "cus_a", "1234.5"),
            ("storage", "cus_a", "7"),
            ("calls", "cus_b", "99"),
        ]
    ]
    assert api.post("/v1/events/ingest", {"events": events}).status_code == 200


def mint(api: Api, customer: str = "cus_a", key: str | None = None, **extra: Any) -> Any:
    response = api.post("/v1/portal/tokens", {"customerRef": customer, **extra}, key=key)
    assert response.status_code == 201, response.text
    return response.json()


def as_token(api: Api, token: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return api.client.request(method, path, headers=headers, **kwargs)


def audit_actions(api: Api) -> list[tuple[str, str, str]]:
    found = api.get("/v1/audit", limit=100).json()["data"]
    return [(e["action"], e["targetId"], e["actor"]) for e in found]


def _put(api: Api, path: str, body: dict[str, Any], key: str | None = None) -> None:
    response = api.client.put(path, json=body, headers=api.headers(key))
    assert response.status_code in (200, 201), response.text


def seed_billing(api: Api) -> None:
    """``seed``'s usage plus a quota over each metric, a boolean feature, and credit in
    money (every metric), in money for ``storage`` only and in ``calls`` units."""
    seed(api)
    for feature, metric in (("calls_quota", "calls"), ("storage_quota", "storage")):
        _put(api, f"/v1/features/{feature}", {"type": "metered", "metric": metric})
        _put(api, f"/v1/customers/cus_a/entitlements/{feature}", {"limit": "5000"})
    _put(api, "/v1/features/sso", {"type": "boolean"})
    _put(api, "/v1/customers/cus_a/entitlements/sso", {})
    grants = [
        {"amount": "5", "currency": "usd", "idempotencyKey": "g-all"},
        {"amount": "2", "currency": "usd", "appliesTo": ["storage"], "idempotencyKey": "g-storage"},
        {"amount": "100", "unit": "calls", "idempotencyKey": "g-units"},
    ]
    for body in grants:
        response = api.post("/v1/customers/cus_a/credit-grants", body)
        assert response.status_code == 201, response.text
