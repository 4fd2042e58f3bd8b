"""A customer's own alert thresholds through a portal token: the alerts:write scope, the
customer pinned, only the customer's own rules listed and deleted."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, audit_actions, mint, seed

RULE = {
    "metric": "calls",
    "threshold": "80",
    "percentOf": "1000",
    "webhookUrl": "https://hooks.example.com/usage",
}


def _writer(api: Api, customer: str = "cus_a", **extra: Any) -> str:
    seed(api)
    token: str = mint(api, customer, scopes=["alerts:write"], **extra)["token"]
    return token


def test_a_customer_sets_a_threshold_for_itself(api: Api) -> None:
    token = _writer(api)
    made = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE)
    assert (made.status_code, made.json()["customerRef"], made.json()["type"]) == (
        201,
        "cus_a",
        "quantity",
    )


def test_the_customer_cannot_name_another_customer(api: Api) -> None:
    token = _writer(api)
    made = as_token(api, token, "POST", "/portal/v1/alerts", json={**RULE, "customerRef": "cus_b"})
    assert (made.status_code, made.json()["errors"][0]["field"]) == (422, "customerRef")


def test_without_alerts_write_a_threshold_is_403(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    made = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE)
    assert (made.status_code, made.json()["code"]) == (403, "missing_scope")


def test_a_metric_outside_the_token_is_refused(api: Api) -> None:
    token = _writer(api, metrics=["storage"])
    made = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE)
    assert made.status_code == 404


def test_a_webhook_into_the_private_network_is_refused(api: Api) -> None:
    token = _writer(api)
    made = as_token(
        api,
        token,
        "POST",
        "/portal/v1/alerts",
        json={**RULE, "webhookUrl": "http://127.0.0.1:8080/x"},
    )
    assert (made.status_code, made.json()["errors"][0]["field"]) == (422, "webhookUrl")


def test_only_the_customers_own_rules_are_listed(api: Api) -> None:
    token = _writer(api)
    api.post("/v1/alerts", {"metric": "calls", "customerRef": "cus_a", "threshold": "5"})
    mine = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE).json()["id"]
    listed = as_token(api, token, "GET", "/portal/v1/alerts").json()["data"]
    assert [r["id"] for r in listed] == [mine]


def test_another_customer_cannot_delete_the_rule(api: Api) -> None:
    token = _writer(api)
    rule = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE).json()["id"]
    other = mint(api, "cus_b", scopes=["alerts:write"])["token"]
    response = as_token(api, other, "DELETE", f"/portal/v1/alerts/{rule}")
    assert response.status_code == 404


def test_the_operators_rule_cannot_be_deleted_by_the_customer(api: Api) -> None:
    token = _writer(api)
    rule = api.post(
        "/v1/alerts", {"metric": "calls", "customerRef": "cus_a", "threshold": "5"}
    ).json()["id"]
    assert as_token(api, token, "DELETE", f"/portal/v1/alerts/{rule}").status_code == 404


def test_deleting_an_own_rule_removes_it(api: Api) -> None:
    token = _writer(api)
    rule = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE).json()["id"]
    deleted = as_token(api, token, "DELETE", f"/portal/v1/alerts/{rule}")
    assert (deleted.status_code, api.get("/v1/alerts").json()["data"]) == (204, [])


def test_the_audit_log_names_the_token(api: Api) -> None:
    token = _writer(api)
    token_id = token.removeprefix("smp_").split(".")[0]
    rule = as_token(api, token, "POST", "/portal/v1/alerts", json=RULE).json()["id"]
    assert ("portal_alert.create", rule, token_id) in audit_actions(api)
