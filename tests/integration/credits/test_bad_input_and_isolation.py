"""Credit grants: every field bounded (a 4xx problem naming it), and per tenant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from tests.integration.credits.conftest import grant
from tests.support.app_client import Client

BASE = {"amount": "10", "currency": "usd", "idempotencyKey": "k"}
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("amount 1e80", {**BASE, "amount": "1e80"}, "amount"),
    ("amount number 1e100", {**BASE, "amount": 1e100}, "amount"),
    ("amount zero", {**BASE, "amount": "0"}, "amount"),
    ("amount of a tenth of a cent", {**BASE, "amount": "0.001"}, "amount"),
    ("currency and unit", {**BASE, "unit": "tokens"}, "currency"),
    ("neither currency nor unit", {"amount": "1", "idempotencyKey": "k"}, "currency"),
    ("currency of four letters", {**BASE, "currency": "usdx"}, "currency"),
    ("category unknown", {**BASE, "category": "gift"}, "category"),
    ("priority 1e80", {**BASE, "priority": 10**80}, "priority"),
    ("expiry in 10 000 years", {**BASE, "expiresAt": "12025-01-01T00:00:00Z"}, "expiresAt"),
    ("effective year 1", {**BASE, "effectiveAt": "0001-01-01T00:00:00Z"}, "effectiveAt"),
    (
        "expiry before effective",
        {**BASE, "effectiveAt": "2025-02-01T00:00:00Z", "expiresAt": "2025-01-01T00:00:00Z"},
        "expiresAt",
    ),
    ("appliesTo not a list", {**BASE, "appliesTo": "tokens"}, "appliesTo"),
    ("NUL in appliesTo", {**BASE, "appliesTo": ["a\u0000"]}, "appliesTo.0"),
    ("no idempotency key", {"amount": "1", "currency": "usd"}, "idempotencyKey"),
    ("unknown field", {**BASE, "amout": "1"}, "amout"),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_problem_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = client.http.post(
        "/v1/customers/cus_1/credit-grants",
        content=json.dumps(body),
        headers={**client.headers, "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


def _other(client: Client) -> dict[str, str]:
    with client.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=client.clock.now())
        issued = issue_key(uow, "other", frozenset({"admin"}), label=None, now=client.clock.now())
        uow.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def test_another_tenant_sees_no_grant_and_cannot_void_it(client: Client) -> None:
    first = grant(client, "100", "g1").json()
    other = _other(client)
    listed = client.http.get("/v1/customers/cus_1/credit-grants", headers=other).json()
    credits = client.http.get("/v1/customers/cus_1/credits", headers=other).json()
    voided = client.http.post(
        f"/v1/customers/cus_1/credit-grants/{first['id']}/void", headers=other
    )
    assert (listed["data"], credits["balances"], voided.status_code) == ([], [], 404)
    assert client.get("/v1/customers/cus_1/credit-grants").json()["data"][0]["status"] == "active"


def test_the_same_idempotency_key_in_another_tenant_is_its_own_grant(client: Client) -> None:
    grant(client, "100", "g1")
    response = client.http.post(
        "/v1/customers/cus_1/credit-grants",
        headers=_other(client),
        json={"amount": "5", "currency": "usd", "idempotencyKey": "g1"},
    )
    assert response.status_code == 201


def test_a_20_mib_body_is_refused_with_413(client: Client) -> None:
    response = client.http.post(
        "/v1/customers/cus_1/credit-grants",
        content=b"[" + b"1," * (10 << 20) + b"1]",
        headers={**client.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
