"""Reservations over HTTP, on both stores: hold, commit as usage, release, expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.entitlements.conftest import grant, track
from tests.support.app_client import Client


def reserve(client: Client, quantity: str, key: str, **fields: Any) -> Any:
    return client.post(
        "/v1/entitlements/reservations",
        {
            "customerRef": "cus_1",
            "feature": "tokens",
            "quantity": quantity,
            "idempotencyKey": key,
            **fields,
        },
    )


def entitlement(client: Client) -> Any:
    return client.get("/v1/customers/cus_1/entitlements/tokens").json()


def test_a_reservation_holds_quantity_against_the_balance(client: Client) -> None:
    grant(client, "cus_1", "100")
    assert reserve(client, "40", "r1").status_code == 201
    body = entitlement(client)
    assert (body["usage"], body["reserved"], body["balance"]) == ("0", "40", "60")


def test_a_reservation_past_a_hard_limit_is_refused(client: Client) -> None:
    grant(client, "cus_1", "100")
    track(client, "cus_1", "70", "e1")
    response = reserve(client, "31", "r1")
    assert (response.status_code, response.json()["code"]) == (409, "entitlement_exceeded")


def test_a_reservation_without_a_grant_is_refused(client: Client) -> None:
    assert reserve(client, "1", "r1").status_code == 409


def test_a_soft_limit_lets_a_reservation_past_the_limit(client: Client) -> None:
    grant(client, "cus_1", "10", enforcement="soft")
    assert reserve(client, "50", "r1").status_code == 201


def test_the_same_idempotency_key_answers_the_first_reservation(client: Client) -> None:
    grant(client, "cus_1", "100")
    first = reserve(client, "40", "r1").json()
    again = reserve(client, "40", "r1")
    assert (again.status_code, again.json()["id"], entitlement(client)["reserved"]) == (
        200,
        first["id"],
        "40",
    )


def test_a_replay_answers_the_first_reservation_though_the_balance_is_gone(
    client: Client,
) -> None:
    grant(client, "cus_1", "100")
    first = reserve(client, "60", "r1").json()
    track(client, "cus_1", "40", "e1")  # nothing left: a fresh request would be refused
    again = reserve(client, "60", "r1")
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    assert reserve(client, "60", "r2").json()["code"] == "entitlement_exceeded"
    assert reserve(client, "61", "r1").json()["code"] == "idempotency_key_reused"


def test_a_replay_answers_the_first_reservation_once_the_grant_is_gone(client: Client) -> None:
    grant(client, "cus_1", "100")
    first = reserve(client, "60", "r1").json()
    removed = client.http.delete("/v1/customers/cus_1/entitlements/tokens", headers=client.headers)
    assert removed.status_code in (200, 204), removed.text
    again = reserve(client, "60", "r1")
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    assert reserve(client, "60", "r2").status_code == 409


def test_an_idempotency_key_reused_for_another_quantity_is_409(client: Client) -> None:
    grant(client, "cus_1", "100")
    reserve(client, "40", "r1")
    assert reserve(client, "41", "r1").json()["code"] == "idempotency_key_reused"


def test_commit_records_the_usage_and_frees_the_hold(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    done = client.post(f"/v1/entitlements/reservations/{held['id']}/commit", {"quantity": "31"})
    body = entitlement(client)
    assert (done.json()["status"], body["usage"], body["reserved"]) == ("committed", "31", "0")


def test_commit_is_idempotent(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    for _ in range(3):
        client.post(f"/v1/entitlements/reservations/{held['id']}/commit", None)
    assert entitlement(client)["usage"] == "40"


def test_commit_records_the_event_through_the_ledger(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    client.post(f"/v1/entitlements/reservations/{held['id']}/commit", None)
    keys = [
        e["idempotencyKey"] for e in client.get("/v1/events", customerRef="cus_1").json()["data"]
    ]
    assert keys == [f"reservation:{held['id']}"]


def test_commit_of_more_than_the_reserved_quantity_names_the_field(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    response = client.post(f"/v1/entitlements/reservations/{held['id']}/commit", {"quantity": "41"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "quantity")


def test_a_committed_event_matches_the_feature_filter(client: Client) -> None:
    client.put(
        "/v1/features/large",
        {"type": "metered", "metric": "tokens", "filter": {"meta.model": "large"}},
    )
    client.put("/v1/customers/cus_1/entitlements/large", {"limit": "100"})
    held = client.post(
        "/v1/entitlements/reservations",
        {"customerRef": "cus_1", "feature": "large", "quantity": "9", "idempotencyKey": "r1"},
    ).json()
    client.post(f"/v1/entitlements/reservations/{held['id']}/commit", None)
    assert client.get("/v1/customers/cus_1/entitlements/large").json()["usage"] == "9"


def test_release_frees_the_hold(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    done = client.post(f"/v1/entitlements/reservations/{held['id']}/release", None)
    assert (done.json()["status"], entitlement(client)["reserved"]) == ("released", "0")


def test_a_released_reservation_cannot_be_committed(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1").json()
    client.post(f"/v1/entitlements/reservations/{held['id']}/release", None)
    response = client.post(f"/v1/entitlements/reservations/{held['id']}/commit", None)
    assert (response.status_code, response.json()["code"]) == (409, "reservation_released")


def test_expiry_frees_the_hold(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1", ttlSeconds=30).json()
    client.clock.advance(timedelta(seconds=30))
    status = client.get(f"/v1/entitlements/reservations/{held['id']}").json()["status"]
    assert (status, entitlement(client)["reserved"]) == ("expired", "0")


def test_an_expired_reservation_cannot_be_committed(client: Client) -> None:
    grant(client, "cus_1", "100")
    held = reserve(client, "40", "r1", ttlSeconds=30).json()
    client.clock.advance(timedelta(seconds=31))
    response = client.post(f"/v1/entitlements/reservations/{held['id']}/commit", None)
    assert response.json()["code"] == "reservation_expired"


def test_a_ttl_past_a_day_names_the_field(client: Client) -> None:
    grant(client, "cus_1", "100")
    response = reserve(client, "1", "r1", ttlSeconds=86_401)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "ttlSeconds")


def test_an_unknown_reservation_is_404(client: Client) -> None:
    assert client.post("/v1/entitlements/reservations/rsv_nope/release", None).status_code == 404


def test_every_reservation_and_feature_write_leaves_an_audit_entry(client: Client) -> None:
    """Issue 20: every write is audited — reservations made, committed and released, and a
    grant and a feature withdrawn (the puts are checked in test_features_api)."""
    client.put("/v1/customers/cus_1/entitlements/tokens", {"limit": "100"})
    reserve = {"customerRef": "cus_1", "feature": "tokens", "quantity": "5"}
    first = client.post("/v1/entitlements/reservations", {**reserve, "idempotencyKey": "a1"})
    second = client.post("/v1/entitlements/reservations", {**reserve, "idempotencyKey": "a2"})
    client.post(f"/v1/entitlements/reservations/{first.json()['id']}/commit", {})
    client.post(f"/v1/entitlements/reservations/{second.json()['id']}/release", {})
    client.delete("/v1/customers/cus_1/entitlements/tokens")
    client.delete("/v1/features/tokens")
    actions = {e["action"] for e in client.get("/v1/audit", limit=500).json()["data"]}
    assert {
        "reservation.create",
        "reservation.commit",
        "reservation.release",
        "entitlement.delete",
        "feature.delete",
    } <= actions
