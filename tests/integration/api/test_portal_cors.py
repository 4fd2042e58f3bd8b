"""CORS of the portal read API: answered for the token's tenant's allowed origins only;
preflights handled; the admin API answers none."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import ORIGIN, as_token, mint

PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


def _allow(api: Api, *origins: str, key: str | None = None) -> None:
    response = api.client.put(
        "/v1/portal/settings", json={"allowedOrigins": list(origins)}, headers=api.headers(key)
    )
    assert response.status_code == 200, response.text


def test_an_allowed_origin_can_read(api: Api) -> None:
    _allow(api, ORIGIN)
    token = mint(api)["token"]
    response = as_token(api, token, "GET", "/portal/v1/me", headers={"Origin": ORIGIN})
    assert response.headers.get("access-control-allow-origin") == ORIGIN


def test_another_origin_gets_no_cors_header(api: Api) -> None:
    _allow(api, ORIGIN)
    token = mint(api)["token"]
    response = as_token(
        api, token, "GET", "/portal/v1/me", headers={"Origin": "https://evil.example.net"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_an_origin_allowed_by_another_tenant_gets_no_cors_header(api: Api) -> None:
    _allow(api, ORIGIN, key=api.new_key({"admin"}, tenant="other"))
    token = mint(api)["token"]
    response = as_token(api, token, "GET", "/portal/v1/me", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_from_an_allowed_origin_is_answered(api: Api) -> None:
    _allow(api, ORIGIN)
    response = api.client.options("/portal/v1/usage", headers={"Origin": ORIGIN, **PREFLIGHT})
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (204, ORIGIN)


def test_a_preflight_from_another_origin_is_refused(api: Api) -> None:
    _allow(api, ORIGIN)
    response = api.client.options(
        "/portal/v1/usage", headers={"Origin": "https://evil.example.net", **PREFLIGHT}
    )
    assert (response.status_code, "access-control-allow-origin" in response.headers) == (403, False)


def test_the_admin_api_answers_no_cors(api: Api) -> None:
    _allow(api, ORIGIN)
    response = api.client.get("/v1/portal/settings", headers={**api.headers(), "Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_an_origin_with_a_path_is_refused_naming_the_field(api: Api) -> None:
    response = api.client.put(
        "/v1/portal/settings",
        json={"allowedOrigins": ["https://a.example.com/x"]},
        headers=api.headers(),
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "allowedOrigins")


def test_a_css_value_that_could_end_the_rule_is_refused(api: Api) -> None:
    body = {"theme": {"cssVariables": {"--portal-accent": "red;}body{x:y"}}}
    response = api.client.put("/v1/portal/settings", json=body, headers=api.headers())
    assert (response.status_code, response.json()["errors"][0]["field"]) == (
        422,
        "theme.cssVariables",
    )


def test_settings_changes_are_audited(api: Api) -> None:
    _allow(api, ORIGIN)
    found = api.get("/v1/audit", limit=10).json()["data"]
    assert found[0]["action"] == "portal_settings.update"
    assert found[0]["after"]["allowedOrigins"] == [ORIGIN]
