"""Features and grants over HTTP, on both stores: shapes, replacement, validation, audit."""

from __future__ import annotations

from tests.integration.entitlements.conftest import grant
from tests.support.app_client import Client


def test_a_metered_feature_round_trips(client: Client) -> None:
    body = client.get("/v1/features/tokens").json()
    assert (body["type"], body["metric"], body["reset"]) == ("metered", "tokens", "billingPeriod")


def test_replacing_a_feature_answers_200(client: Client) -> None:
    response = client.put(
        "/v1/features/tokens", {"type": "metered", "metric": "tokens", "reset": "day"}
    )
    assert (response.status_code, response.json()["reset"]) == (200, "day")


def test_a_static_feature_keeps_its_json_config(client: Client) -> None:
    client.put("/v1/features/seats", {"type": "static", "config": {"max": 5, "sso": True}})
    assert client.get("/v1/features/seats").json()["config"] == {"max": 5, "sso": True}


def test_features_are_listed_by_key(client: Client) -> None:
    client.put("/v1/features/sso", {"type": "boolean"})
    keys = [f["key"] for f in client.get("/v1/features").json()["data"]]
    assert keys == ["sso", "tokens"]


def test_a_deleted_feature_is_gone(client: Client) -> None:
    assert client.delete("/v1/features/tokens").status_code == 204
    assert client.get("/v1/features/tokens").json()["code"] == "feature_not_found"


def test_a_metered_feature_of_an_unknown_metric_names_the_field(client: Client) -> None:
    response = client.put("/v1/features/x", {"type": "metered", "metric": "nope"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "metric")


def test_an_unknown_feature_type_names_the_field(client: Client) -> None:
    response = client.put("/v1/features/x", {"type": "quota"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "type")


def test_a_grant_round_trips_with_exact_decimals(client: Client) -> None:
    assert grant(client, "cus_1", "1000.000000000001", overage="5").status_code == 201
    body = client.get("/v1/customers/cus_1/entitlements/tokens/grant").json()
    assert (body["limit"], body["overage"], body["enforcement"]) == (
        "1000.000000000001",
        "5",
        "hard",
    )


def test_replacing_a_grant_answers_200(client: Client) -> None:
    grant(client, "cus_1", "10")
    assert grant(client, "cus_1", "20").status_code == 200


def test_a_metered_grant_needs_a_limit(client: Client) -> None:
    response = client.put("/v1/customers/cus_1/entitlements/tokens", {})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "limit")


def test_a_grant_of_an_unknown_feature_is_404(client: Client) -> None:
    response = client.put("/v1/customers/cus_1/entitlements/nope", {"limit": "1"})
    assert response.status_code == 404


def test_a_withdrawn_grant_answers_no_grant(client: Client) -> None:
    grant(client, "cus_1", "10")
    assert client.delete("/v1/customers/cus_1/entitlements/tokens").status_code == 204
    assert client.get("/v1/customers/cus_1/entitlements/tokens").json()["reason"] == "no_grant"


def test_every_write_leaves_an_audit_entry(client: Client) -> None:
    grant(client, "cus_1", "10")
    client.post("/v1/customers/cus_1/entitlements/tokens/extra-grants", {"amount": "5"})
    actions = {e["action"] for e in client.get("/v1/audit").json()["data"]}
    assert {"feature.put", "entitlement.put", "entitlement.extra_grant"} <= actions
