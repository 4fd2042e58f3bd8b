"""Another tenant's key sees none of this tenant's features, grants or reservations, and
its own writes never touch them (every entitlement route probed)."""

from __future__ import annotations

from typing import Any

import pytest

from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from tests.integration.entitlements.conftest import grant
from tests.support.app_client import Client


def other_key(client: Client) -> str:
    with client.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=client.clock.now())
        issued = issue_key(uow, "other", frozenset({"admin"}), label=None, now=client.clock.now())
        uow.commit()
    return issued.secret


@pytest.fixture
def seeded(client: Client) -> tuple[Client, dict[str, str], str]:
    grant(client, "cus_1", "10")
    held = client.post(
        "/v1/entitlements/reservations",
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "4", "idempotencyKey": "r1"},
    ).json()
    return client, {"Authorization": f"Bearer {other_key(client)}"}, held["id"]


def call(client: Client, headers: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    return client.http.request(method, path, json=body, headers=headers)


def test_features_are_per_tenant(seeded: tuple[Client, dict[str, str], str]) -> None:
    client, other, _ = seeded
    assert call(client, other, "GET", "/v1/features/tokens").status_code == 404
    assert call(client, other, "GET", "/v1/features").json()["data"] == []


def test_deleting_another_tenants_feature_is_404(
    seeded: tuple[Client, dict[str, str], str],
) -> None:
    client, other, _ = seeded
    assert call(client, other, "DELETE", "/v1/features/tokens").status_code == 404
    assert client.get("/v1/features/tokens").status_code == 200


def test_grants_are_per_tenant(seeded: tuple[Client, dict[str, str], str]) -> None:
    client, other, _ = seeded
    paths = [
        "/v1/customers/cus_1/entitlements/tokens",
        "/v1/customers/cus_1/entitlements/tokens/grant",
    ]
    assert [call(client, other, "GET", p).status_code for p in paths] == [404, 404]
    assert call(client, other, "GET", "/v1/customers/cus_1/entitlements").json()["data"] == []


def test_writes_of_another_tenant_do_not_reach_the_grant(
    seeded: tuple[Client, dict[str, str], str],
) -> None:
    client, other, _ = seeded
    base = "/v1/customers/cus_1/entitlements/tokens"
    statuses = [
        call(client, other, "PUT", base, {"limit": "999"}).status_code,
        call(client, other, "DELETE", base).status_code,
        call(client, other, "POST", f"{base}/extra-grants", {"amount": "5"}).status_code,
    ]
    assert statuses == [404, 404, 404]
    assert client.get(base).json()["limit"] == "10"


def test_check_of_another_tenant_sees_no_feature(
    seeded: tuple[Client, dict[str, str], str],
) -> None:
    client, other, _ = seeded
    response = call(
        client,
        other,
        "POST",
        "/v1/entitlements/check",
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "1"},
    )
    assert response.status_code == 404


def test_reservations_are_per_tenant(seeded: tuple[Client, dict[str, str], str]) -> None:
    client, other, held = seeded
    base = f"/v1/entitlements/reservations/{held}"
    statuses = [
        call(client, other, "GET", base).status_code,
        call(client, other, "POST", f"{base}/commit").status_code,
        call(client, other, "POST", f"{base}/release").status_code,
    ]
    assert statuses == [404, 404, 404]
    assert client.get(base).json()["status"] == "held"


def test_the_same_idempotency_key_in_another_tenant_is_its_own(
    seeded: tuple[Client, dict[str, str], str],
) -> None:
    client, other, _ = seeded
    response = call(
        client,
        other,
        "POST",
        "/v1/entitlements/reservations",
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "4", "idempotencyKey": "r1"},
    )
    assert response.status_code == 404  # its tenant has no such feature; the key is not shared
