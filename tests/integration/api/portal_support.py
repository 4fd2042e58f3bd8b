"""Helpers of the portal API tests: a customer's usage, minting, calling with a token."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api

ORIGIN = "https://app.example.com"


def seed(api: Api) -> None:
    """Two metrics with prices, usage of customers ``cus_a`` and ``cus_b``."""
    for code in ("calls", "storage"):
        assert api.post("/v1/metrics", {"code": code, "aggregation": "sum"}).status_code == 201
        api.client.put(f"/v1/prices/{code}", json={"model": "per_unit", "currency": "usd",
                                                   "unitAmount": "0.01"},
                       headers=api.headers())
    events = [{"metric": m, "customerRef": c, "quantity": q, "ts": "2025-01-16T10:00:00Z",
               "idempotencyKey": f"{m}-{c}"}
              for m, c, q in [("calls", "cus_a", "1234.5"), ("storage", "cus_a", "7"),
                              ("calls", "cus_b", "99")]]
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
