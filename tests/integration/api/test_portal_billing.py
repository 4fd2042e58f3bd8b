"""The portal's entitlements, credit and upcoming invoice through the real app: the admin
API's values for the token's customer, limited to the token's metrics, never another
customer's or tenant's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, mint, seed

BILLING = ["/portal/v1/entitlements", "/portal/v1/credits", "/portal/v1/upcoming-invoice"]
ADMIN = {"/portal/v1/entitlements": "/v1/customers/cus_a/entitlements",
         "/portal/v1/credits": "/v1/customers/cus_a/credits",
         "/portal/v1/upcoming-invoice": "/v1/customers/cus_a/upcoming-invoice"}


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
    grants = [{"amount": "5", "currency": "usd", "idempotencyKey": "g-all"},
              {"amount": "2", "currency": "usd", "appliesTo": ["storage"],
               "idempotencyKey": "g-storage"},
              {"amount": "100", "unit": "calls", "idempotencyKey": "g-units"}]
    for body in grants:
        response = api.post("/v1/customers/cus_a/credit-grants", body)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("path", BILLING)
def test_the_values_match_the_admin_api(api: Api, path: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    portal = as_token(api, token, "GET", path)
    assert portal.status_code == 200 and portal.json() == api.get(ADMIN[path]).json()


def test_the_entitlements_show_usage_limit_and_balance(api: Api) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    data = as_token(api, token, "GET", "/portal/v1/entitlements").json()["data"]
    calls = next(a for a in data if a["feature"] == "calls_quota")
    assert (calls["hasAccess"], calls["usage"], calls["limit"], calls["balance"]) == (
        True, "1234.5", "5000", "3765.5")


def test_a_token_limited_to_a_metric_sees_only_its_entitlements(api: Api) -> None:
    seed_billing(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    data = as_token(api, token, "GET", "/portal/v1/entitlements").json()["data"]
    assert sorted(a["feature"] for a in data) == ["sso", "storage_quota"]


def test_a_token_limited_to_a_metric_sees_only_its_invoice_lines(api: Api) -> None:
    seed_billing(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    body = as_token(api, token, "GET", "/portal/v1/upcoming-invoice").json()
    assert [line["metric"] for line in body["lines"]] == ["storage"]
    assert [t["subtotal"] for t in body["totals"]] == ["0.07"]


def test_a_token_limited_to_a_metric_sees_no_other_metrics_credit(api: Api) -> None:
    seed_billing(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    body = as_token(api, token, "GET", "/portal/v1/credits").json()
    assert [(b["currency"], b["unit"]) for b in body["balances"]] == [("usd", None)]
    assert sorted(g["idempotencyKey"] for g in body["grants"]) == ["g-all", "g-storage"]
    assert "calls" not in as_token(api, token, "GET", "/portal/v1/credits").text


@pytest.mark.parametrize("path", BILLING)
def test_another_customers_token_never_shows_this_customers_values(api: Api,
                                                                   path: str) -> None:
    seed_billing(api)
    token = mint(api, "cus_b")["token"]
    response = as_token(api, token, "GET", f"{path}?customerRef=cus_a")
    assert response.status_code == 200 and "cus_a" not in response.text
    assert "1234.5" not in response.text and "g-all" not in response.text


@pytest.mark.parametrize("path", BILLING)
def test_another_tenants_token_never_shows_this_tenants_values(api: Api, path: str) -> None:
    seed_billing(api)
    other = api.new_key({"admin"}, tenant="other")
    token = mint(api, "cus_a", key=other)["token"]
    response = as_token(api, token, "GET", f"{path}?tenantId=default")
    assert response.status_code == 200
    assert "1234.5" not in response.text and "g-all" not in response.text
    assert "calls_quota" not in response.text


def test_a_bad_at_names_the_field(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    response = as_token(api, token, "GET", "/portal/v1/upcoming-invoice",
                        params={"at": "yesterday"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "at")
