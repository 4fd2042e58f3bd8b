"""The portal's entitlements, credit and upcoming invoice through the real app: the admin
API's values for the token's customer, limited to the token's metrics, never another
customer's or tenant's."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, mint, seed, seed_billing

BILLING = ["/portal/v1/entitlements", "/portal/v1/credits", "/portal/v1/upcoming-invoice"]
ADMIN = {
    "/portal/v1/entitlements": "/v1/customers/cus_a/entitlements",
    "/portal/v1/credits": "/v1/customers/cus_a/credits",
    "/portal/v1/upcoming-invoice": "/v1/customers/cus_a/upcoming-invoice",
}


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
        True,
        "1234.5",
        "5000",
        "3765.5",
    )


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
def test_another_customers_token_never_shows_this_customers_values(api: Api, path: str) -> None:
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
    response = as_token(
        api, token, "GET", "/portal/v1/upcoming-invoice", params={"at": "yesterday"}
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "at")
