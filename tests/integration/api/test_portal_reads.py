"""The portal read API through the real app: the same values as the admin API, limited to
the token's customer and metrics; every route probed with another customer's and another
tenant's token."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, mint, seed

READS = [
    "/portal/v1/usage",
    "/portal/v1/projection",
    "/portal/v1/history?metric=calls",
    "/portal/v1/alerts",
    "/portal/v1/me",
]


def _with(path: str, query: str) -> str:
    """The path with a mismatched id added to its query (ignored: a token names its own)."""
    return f"{path}{'&' if '?' in path else '?'}{query}"


def _values(body: dict[str, object]) -> dict[str, object]:
    return {m["metric"]: m["value"] for m in body["metrics"]}  # type: ignore[attr-defined]


def test_usage_matches_the_admin_api(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    portal = as_token(api, token, "GET", "/portal/v1/usage").json()
    admin = api.get("/v1/usage/current", customerRef="cus_a").json()
    assert _values(portal) == _values(admin) == {"calls": "1234.5", "storage": "7"}


def test_costs_match_the_admin_api(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    portal = as_token(api, token, "GET", "/portal/v1/usage").json()
    admin = api.get("/v1/usage/current", customerRef="cus_a").json()
    assert [m["cost"] for m in portal["metrics"]] == [m["cost"] for m in admin["metrics"]]


def test_projection_matches_the_admin_api(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    portal = as_token(api, token, "GET", "/portal/v1/projection").json()
    admin = api.post("/v1/usage/projection", {"customerRef": "cus_a"}).json()
    assert portal == admin


def test_history_matches_the_admin_api(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    window = {"from": "2025-01-10T00:00:00Z", "to": "2025-01-17T00:00:00Z"}
    portal = as_token(
        api, token, "GET", "/portal/v1/history", params={"metric": "calls", **window}
    ).json()
    admin = api.get("/v1/usage/history", customerRef="cus_a", metric="calls", **window).json()
    assert [(p["start"], p["value"]) for p in portal["data"]] == [
        (p["start"], p["value"]) for p in admin["data"]
    ]


def test_a_token_limited_to_a_metric_sees_only_it(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a", metrics=["calls"])["token"]
    assert _values(as_token(api, token, "GET", "/portal/v1/usage").json()) == {"calls": "1234.5"}


def test_the_projection_totals_only_the_tokens_metrics(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    body = as_token(api, token, "GET", "/portal/v1/projection").json()
    assert ([m["metric"] for m in body["metrics"]], body["currentTotal"]) == (["storage"], "0.07")


def test_history_of_a_metric_outside_the_token_is_404(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    response = as_token(api, token, "GET", "/portal/v1/history", params={"metric": "calls"})
    assert (response.status_code, response.json()["code"]) == (404, "metric_not_found")


@pytest.mark.parametrize("path", READS)
def test_another_customers_token_never_shows_this_customers_values(api: Api, path: str) -> None:
    seed(api)
    token = mint(api, "cus_b")["token"]
    response = as_token(api, token, "GET", _with(path, "customerRef=cus_a"))
    assert response.status_code == 200 and "cus_a" not in response.text
    assert "1234.5" not in response.text


@pytest.mark.parametrize("path", READS)
def test_another_tenants_token_never_shows_this_tenants_values(api: Api, path: str) -> None:
    seed(api)
    other = api.new_key({"admin"}, tenant="other")
    api.post("/v1/metrics", {"code": "calls", "aggregation": "sum"}, key=other)
    token = mint(api, "cus_a", key=other)["token"]
    response = as_token(api, token, "GET", _with(path, "tenantId=default"))
    assert response.status_code == 200 and "1234.5" not in response.text


def test_a_missing_token_is_401(api: Api) -> None:
    response = api.client.get("/portal/v1/usage")
    assert (response.status_code, response.json()["code"]) == (401, "missing_portal_token")


def test_a_bad_history_step_names_the_field(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    response = as_token(
        api, token, "GET", "/portal/v1/history", params={"metric": "calls", "step": "week"}
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "step")
