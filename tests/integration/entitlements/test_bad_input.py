"""Bounded parsing of every entitlement field: a 4xx problem naming the field, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.entitlements.conftest import grant
from tests.support.app_client import Client

GRANT = "/v1/customers/cus_1/entitlements/tokens"
RESERVE = {"customerRef": "cus_1", "feature": "tokens", "quantity": "1", "idempotencyKey": "k1"}

CASES: list[tuple[str, str, str, Any, int, str]] = [
    ("limit 1e80", "PUT", GRANT, {"limit": "1e80"}, 422, "limit"),
    ("limit number 1e100", "PUT", GRANT, {"limit": 1e100}, 422, "limit"),
    ("limit negative", "PUT", GRANT, {"limit": "-1"}, 422, "limit"),
    ("limit NaN", "PUT", GRANT, {"limit": "NaN"}, 422, "limit"),
    (
        "overage 13 places",
        "PUT",
        GRANT,
        {"limit": "1", "overage": "0.0000000000001"},
        422,
        "overage",
    ),
    (
        "expiry year 9999",
        "PUT",
        GRANT,
        {"limit": "1", "expiresAt": "9999-12-31T00:00:00Z"},
        422,
        "expiresAt",
    ),
    (
        "effective year 1",
        "PUT",
        GRANT,
        {"limit": "1", "effectiveAt": "0001-01-01T00:00:00Z"},
        422,
        "effectiveAt",
    ),
    (
        "expiry before effective",
        "PUT",
        GRANT,
        {"limit": "1", "effectiveAt": "2025-02-01T00:00:00Z", "expiresAt": "2025-01-01T00:00:00Z"},
        422,
        "expiresAt",
    ),
    (
        "enforcement unknown",
        "PUT",
        GRANT,
        {"limit": "1", "enforcement": "strict"},
        422,
        "enforcement",
    ),
    ("unknown grant field", "PUT", GRANT, {"limit": "1", "limitt": "2"}, 422, "limitt"),
    (
        "NUL in config",
        "PUT",
        "/v1/features/f",
        {"type": "static", "config": "a\u0000b"},
        422,
        "config",
    ),
    (
        "reset unknown",
        "PUT",
        "/v1/features/f",
        {"type": "metered", "metric": "tokens", "reset": "decade"},
        422,
        "reset",
    ),
    (
        "filter key",
        "PUT",
        "/v1/features/f",
        {"type": "metered", "metric": "tokens", "filter": {"model": "x"}},
        422,
        "filter.model",
    ),
    (
        "config over 4 KiB",
        "PUT",
        "/v1/features/f",
        {"type": "static", "config": ["x" * 100] * 50},
        422,
        "config",
    ),
    (
        "check quantity 1e80",
        "POST",
        "/v1/entitlements/check",
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "1e80"},
        422,
        "quantity",
    ),
    (
        "check without customer",
        "POST",
        "/v1/entitlements/check",
        {"feature": "tokens"},
        422,
        "customerRef",
    ),
    (
        "reserve quantity 0",
        "POST",
        "/v1/entitlements/reservations",
        {**RESERVE, "quantity": "0"},
        422,
        "quantity",
    ),
    (
        "reserve ttl 10 000 years",
        "POST",
        "/v1/entitlements/reservations",
        {**RESERVE, "ttlSeconds": 315_576_000_000},
        422,
        "ttlSeconds",
    ),
    (
        "reserve without key",
        "POST",
        "/v1/entitlements/reservations",
        {k: v for k, v in RESERVE.items() if k != "idempotencyKey"},
        422,
        "idempotencyKey",
    ),
    ("extra amount 1e80", "POST", f"{GRANT}/extra-grants", {"amount": "1e80"}, 422, "amount"),
    ("extra amount 0", "POST", f"{GRANT}/extra-grants", {"amount": "0"}, 422, "amount"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_problem_naming_the_field(
    client: Client, method: str, path: str, body: Any, status: int, field: str
) -> None:
    grant(client, "cus_1", "10")
    response = client.http.request(
        method,
        path,
        content=json.dumps(body),
        headers={**client.headers, "Content-Type": "application/json"},
    )
    problem = response.json()
    assert (response.status_code, problem["errors"][0]["field"]) == (status, field), problem


def test_a_20_mib_body_is_refused_with_413(client: Client) -> None:
    response = client.http.put(
        "/v1/features/f",
        content=b"[" + b"1," * (10 << 20) + b"1]",
        headers={**client.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
