"""Portal tokens through the real app: minting, scope, bounds, expiry, revocation (of the
token and of the key that minted it), tampering and the audit log."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api.conftest import ADMIN_KEY, Api
from tests.integration.api.portal_support import as_token, audit_actions, mint, seed


def test_a_minted_token_reads_its_customer(api: Api) -> None:
    seed(api)
    token = mint(api, "cus_a")["token"]
    body = as_token(api, token, "GET", "/portal/v1/me").json()
    assert (body["customerRef"], body["scopes"]) == ("cus_a", ["usage:read"])


def test_the_token_carries_no_part_of_the_api_key(api: Api) -> None:
    minted = mint(api)
    assert ADMIN_KEY not in minted["token"] and ADMIN_KEY[:8] not in minted["token"]


def test_a_key_with_the_portal_scope_may_mint(api: Api) -> None:
    key = api.new_key({"portal"})
    assert mint(api, key=key)["mintedBy"].startswith("key_")


def test_a_read_key_may_not_mint(api: Api) -> None:
    response = api.post("/v1/portal/tokens", {"customerRef": "cus_a"}, key=api.new_key({"read"}))
    assert (response.status_code, response.json()["code"]) == (403, "missing_scope")


def test_a_portal_key_cannot_read_usage_itself(api: Api) -> None:
    response = api.get("/v1/usage/current", key=api.new_key({"portal"}), customerRef="cus_a")
    assert response.status_code == 403


def test_expires_in_over_24_hours_is_refused_naming_the_field(api: Api) -> None:
    response = api.post("/v1/portal/tokens", {"customerRef": "cus_a", "expiresIn": 86_401})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "expiresIn")


def test_an_unknown_metric_is_refused(api: Api) -> None:
    response = api.post("/v1/portal/tokens", {"customerRef": "cus_a", "metrics": ["nope"]})
    assert (response.status_code, response.json()["code"]) == (422, "metric_not_found")


def test_an_unknown_scope_is_refused(api: Api) -> None:
    response = api.post("/v1/portal/tokens", {"customerRef": "cus_a", "scopes": ["admin"]})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "scopes")


def test_a_token_expires_with_the_clock(api: Api) -> None:
    token = mint(api, expiresIn=600)["token"]
    api.clock.advance(timedelta(seconds=600))
    response = as_token(api, token, "GET", "/portal/v1/me")
    assert (response.status_code, response.json()["code"]) == (401, "expired_portal_token")


def test_a_token_works_until_its_expiry(api: Api) -> None:
    token = mint(api, expiresIn=600)["token"]
    api.clock.advance(timedelta(seconds=599))
    assert as_token(api, token, "GET", "/portal/v1/me").status_code == 200


def test_a_revoked_token_is_refused(api: Api) -> None:
    minted = mint(api)
    deleted = api.client.delete(f"/v1/portal/tokens/{minted['id']}", headers=api.headers())
    response = as_token(api, minted["token"], "GET", "/portal/v1/me")
    assert (deleted.status_code, response.status_code, response.json()["code"]) == (
        204,
        401,
        "revoked_portal_token",
    )


def test_revoking_the_minting_key_ends_its_tokens(api: Api) -> None:
    key = api.new_key({"portal"})
    minted = mint(api, key=key)
    api.client.delete(f"/v1/admin/api-keys/{minted['mintedBy']}", headers=api.headers())
    response = as_token(api, minted["token"], "GET", "/portal/v1/me")
    assert (response.status_code, response.json()["code"]) == (401, "revoked_portal_token")


def test_revoking_the_minting_key_is_audited_per_token(api: Api) -> None:
    key = api.new_key({"portal"})
    minted = mint(api, key=key)
    api.client.delete(f"/v1/admin/api-keys/{minted['mintedBy']}", headers=api.headers())
    assert ("portal_token.revoke", minted["id"]) in [a[:2] for a in audit_actions(api)]


def test_a_tampered_secret_is_refused(api: Api) -> None:
    token = mint(api)["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = as_token(api, tampered, "GET", "/portal/v1/me")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_portal_token")


def test_an_api_key_is_not_a_portal_token(api: Api) -> None:
    response = as_token(api, ADMIN_KEY, "GET", "/portal/v1/me")
    assert response.status_code == 401


def test_a_portal_token_is_not_an_api_key(api: Api) -> None:
    token = mint(api)["token"]
    assert as_token(api, token, "GET", "/v1/usage/current?customerRef=cus_a").status_code == 401


def test_minting_and_revoking_are_audited_under_the_key(api: Api) -> None:
    key_id = mint(api)["mintedBy"]
    minted = mint(api)
    api.client.delete(f"/v1/portal/tokens/{minted['id']}", headers=api.headers())
    actions = audit_actions(api)
    assert {
        ("portal_token.create", minted["id"], key_id),
        ("portal_token.revoke", minted["id"], key_id),
    } <= set(actions)


def test_the_audit_log_never_holds_the_token(api: Api) -> None:
    minted = mint(api)
    text = api.get("/v1/audit", limit=100).text
    assert minted["token"].split(".")[1] not in text


def test_another_tenants_token_cannot_be_revoked(api: Api) -> None:
    minted = mint(api, key=api.new_key({"admin"}, tenant="other"))
    response = api.client.delete(f"/v1/portal/tokens/{minted['id']}", headers=api.headers())
    assert response.status_code == 404


def test_tokens_are_listed_without_secrets(api: Api) -> None:
    minted = mint(api)
    listed = api.get("/v1/portal/tokens").json()["data"]
    assert [t["id"] for t in listed] == [minted["id"]] and "token" not in listed[0]
