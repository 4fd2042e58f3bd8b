"""The embeddable page through the real app: the token's values, the tenant's framing and
theme in the headers and stylesheet, a clear 401 page for a bad token, the widget script."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import ORIGIN, mint, seed, seed_billing


def _settings(api: Api, **body: object) -> None:
    response = api.client.put("/v1/portal/settings", json=body, headers=api.headers())
    assert response.status_code == 200, response.text


def test_the_page_shows_the_customers_values(api: Api) -> None:
    seed(api)
    page = api.client.get("/portal", params={"token": mint(api, "cus_a")["token"]})
    assert page.status_code == 200
    assert 'data-value="1234.5"' in page.text and "1,234.5" in page.text


def test_the_page_formats_money_per_currency(api: Api) -> None:
    seed(api)
    page = api.client.get("/portal", params={"token": mint(api, "cus_a")["token"]})
    assert "12.35 USD" in page.text  # 1234.5 x 0.01, rounded to cents


def test_the_page_never_shows_another_customer(api: Api) -> None:
    seed(api)
    page = api.client.get("/portal", params={"token": mint(api, "cus_b")["token"]})
    assert "1,234.5" not in page.text and "99" in page.text


def test_without_settings_the_page_cannot_be_framed(api: Api) -> None:
    page = api.client.get("/portal", params={"token": mint(api)["token"]})
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_the_tenants_frame_ancestors_are_the_csp(api: Api) -> None:
    _settings(api, frameAncestors=[ORIGIN])
    page = api.client.get("/portal", params={"token": mint(api)["token"]})
    assert f"frame-ancestors {ORIGIN};" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers


def test_the_theme_is_applied_by_nonce(api: Api) -> None:
    _settings(api, theme={"cssVariables": {"--portal-accent": "#6b21a8"}})
    page = api.client.get("/portal", params={"token": mint(api)["token"]})
    nonce = page.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">:root {{ --portal-accent: #6b21a8; }}</style>' in page.text


def test_the_logo_origin_is_allowed_as_an_image(api: Api) -> None:
    _settings(api, theme={"logoUrl": "https://cdn.example.com/logo.svg"})
    page = api.client.get("/portal", params={"token": mint(api)["token"]})
    assert (
        "img-src 'self' data: https://cdn.example.com;" in page.headers["content-security-policy"]
    )


def test_the_page_sends_no_referrer(api: Api) -> None:
    page = api.client.get("/portal", params={"token": mint(api)["token"]})
    assert page.headers["referrer-policy"] == "no-referrer"


def test_an_expired_token_gets_the_401_page(api: Api) -> None:
    token = mint(api, expiresIn=60)["token"]
    api.clock.advance(timedelta(minutes=2))
    page = api.client.get("/portal", params={"token": token})
    assert page.status_code == 401 and "This usage link has expired." in page.text


def test_a_revoked_token_gets_the_401_page(api: Api) -> None:
    minted = mint(api)
    api.client.delete(f"/v1/portal/tokens/{minted['id']}", headers=api.headers())
    page = api.client.get("/portal", params={"token": minted["token"]})
    assert page.status_code == 401 and "This usage link was revoked." in page.text


def test_a_tampered_token_gets_the_401_page(api: Api) -> None:
    token = mint(api)["token"] + "x"
    page = api.client.get("/portal", params={"token": token})
    assert page.status_code == 401 and "This usage link is not valid." in page.text


def test_the_401_page_is_framed_like_the_tenants_page(api: Api) -> None:
    _settings(api, frameAncestors=[ORIGIN])
    token = mint(api, expiresIn=60)["token"]
    api.clock.advance(timedelta(minutes=2))
    page = api.client.get("/portal", params={"token": token})
    assert f"frame-ancestors {ORIGIN};" in page.headers["content-security-policy"]


def test_no_token_gets_the_401_page(api: Api) -> None:
    assert api.client.get("/portal").status_code == 401


def test_the_widget_script_is_served(api: Api) -> None:
    script = api.client.get("/portal/embed.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/portal/v1/usage" in script.text


def test_the_page_shows_the_entitlements_credit_and_upcoming_invoice(api: Api) -> None:
    seed_billing(api)
    page = api.client.get("/portal", params={"token": mint(api, "cus_a")["token"]}).text
    assert 'data-feature="calls_quota"' in page and "3,765.5" in page
    assert 'data-balance="usd"' in page and 'data-line="storage"' in page


def test_the_billing_sections_appear_only_with_something_to_show(api: Api) -> None:
    page = api.client.get("/portal", params={"token": mint(api, "cus_a")["token"]}).text
    assert not any(f'id="{name}"' in page for name in ("upcoming", "credits", "entitlements"))


def test_the_page_shows_only_the_tokens_metrics_billing(api: Api) -> None:
    seed_billing(api)
    token = mint(api, "cus_a", metrics=["storage"])["token"]
    page = api.client.get("/portal", params={"token": token}).text
    assert 'data-feature="calls_quota"' not in page and 'data-line="calls"' not in page
