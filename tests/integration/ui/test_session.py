"""Sessions: the cookie's flags, sign-in with a good or bad key, expiry, revocation,
sign-out, and the sign-in form's own CSRF token."""

from __future__ import annotations

from datetime import timedelta

from stripemeter_server.service.operations.tenancy import hash_key, revoke_key
from tests.integration.ui.conftest import ADMIN_KEY, Ui, csrf_of


def test_a_page_without_a_session_redirects_to_sign_in(ui: Ui) -> None:
    answer = ui.browser().get("/ui/overview")
    assert (answer.status_code, answer.headers["location"]) == (303, "/ui/sign-in")


def test_the_session_cookie_is_http_only_strict_and_expires(ui: Ui) -> None:
    client = ui.browser()
    token = client.get("/ui/sign-in").text.split('name="token" value="')[1].split('"')[0]
    answer = client.post("/ui/sign-in", data={"key": ADMIN_KEY, "token": token})
    cookie = next(v for k, v in answer.headers.multi_items()
                  if k == "set-cookie" and v.startswith("stripemeter_session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= flags and "samesite=strict" in cookie.lower()


def test_the_cookie_does_not_hold_the_key_in_clear(ui: Ui) -> None:
    client = ui.sign_in()
    assert ADMIN_KEY not in (client.cookies.get("stripemeter_session") or "")


def test_a_wrong_key_is_refused(ui: Ui) -> None:
    client = ui.browser()
    token = client.get("/ui/sign-in").text.split('name="token" value="')[1].split('"')[0]
    answer = client.post("/ui/sign-in", data={"key": "smk_nope", "token": token})
    assert answer.headers["location"] == "/ui/sign-in?error=invalid"


def test_sign_in_without_the_form_token_is_refused(ui: Ui) -> None:
    answer = ui.browser().post("/ui/sign-in", data={"key": ADMIN_KEY})
    assert answer.status_code == 403


def test_a_signed_in_operator_sees_the_overview_of_the_keys_tenant(ui: Ui) -> None:
    page = ui.sign_in().get("/ui/overview")
    assert page.status_code == 200 and "Tenant <strong>default</strong>" in page.text


def test_a_session_expires(ui: Ui) -> None:
    client = ui.sign_in()
    ui.clock.advance(timedelta(hours=8, seconds=1))
    assert client.get("/ui/overview").status_code == 303


def test_revoking_the_key_ends_its_sessions(ui: Ui) -> None:
    key = ui.new_key({"read"})
    client = ui.sign_in(key)
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(key))
        assert record is not None
        revoke_key(uow, "default", record.key_id, ui.clock.now())
        uow.commit()
    assert client.get("/ui/overview").status_code == 303


def test_sign_out_clears_the_session(ui: Ui) -> None:
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/overview"))
    out = client.post("/ui/sign-out", data={"csrf": token})
    assert out.headers["location"] == "/ui/sign-in"
    assert client.get("/ui/overview").status_code == 303


def test_a_forged_cookie_is_no_session(ui: Ui) -> None:
    client = ui.browser()
    client.cookies.set("stripemeter_session", "gAAAAAforged", path="/ui")
    assert client.get("/ui/overview").status_code == 303
