"""Sessions: the cookie's flags, sign-in with a good or bad key, expiry, revocation,
sign-out, and the sign-in form's own CSRF token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from stripemeter_server.cli.main import app as cli
from stripemeter_server.service.operations.tenancy import hash_key, revoke_key, rotate_key
from stripemeter_server.storage.schema import dashboard_sessions
from tests.integration.ui.conftest import ADMIN_KEY, Ui, csrf_of


def test_a_page_without_a_session_redirects_to_sign_in(ui: Ui) -> None:
    answer = ui.browser().get("/ui/overview")
    assert (answer.status_code, answer.headers["location"]) == (303, "/ui/sign-in")


def test_the_session_cookie_is_http_only_strict_and_expires(ui: Ui) -> None:
    client = ui.browser()
    token = client.get("/ui/sign-in").text.split('name="token" value="')[1].split('"')[0]
    answer = client.post("/ui/sign-in", data={"key": ADMIN_KEY, "token": token})
    cookie = next(
        v
        for k, v in answer.headers.multi_items()
        if k == "set-cookie" and v.startswith("stripemeter_session=")
    )
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= flags and "samesite=strict" in cookie.lower()


def test_the_cookie_holds_no_key_material(ui: Ui) -> None:
    client = ui.sign_in()
    cookie = client.cookies.get("stripemeter_session") or ""
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(ADMIN_KEY))
    assert record is not None
    assert len(cookie) == 43 and not {ADMIN_KEY, record.key_id, record.key_hash} & {cookie}
    assert ADMIN_KEY not in cookie and record.key_hash not in cookie


def test_the_store_holds_a_digest_of_the_cookie_not_the_cookie(ui: Ui) -> None:
    cookie = ui.sign_in().cookies.get("stripemeter_session") or ""
    with ui.store.unit_of_work() as uow:
        rows = uow.connection.execute(select(dashboard_sessions)).all()
    assert len(rows) == 1 and rows[0].session_id != cookie and cookie not in str(rows[0])


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_overview(ui: Ui) -> None:
    client = ui.sign_in()
    copied = ui.browser()
    copied.cookies.set(
        "stripemeter_session", client.cookies.get("stripemeter_session") or "", path="/ui"
    )
    assert copied.get("/ui/overview").status_code == 200
    client.post("/ui/sign-out", data={"csrf": csrf_of(client.get("/ui/overview"))})
    assert copied.get("/ui/overview").status_code == 303


def test_revoking_the_key_by_api_deletes_its_sessions(ui: Ui) -> None:
    key = ui.new_key({"read"})
    ui.sign_in(key)
    ui.sign_in(key)
    keys = ui.api_get("/v1/admin/api-keys")["data"]
    key_id = next(k["id"] for k in keys if k["prefix"] == key[:8])
    answer = ui.browser().delete(
        f"/v1/admin/api-keys/{key_id}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert answer.status_code == 200, answer.text
    with ui.store.unit_of_work() as uow:
        left = uow.connection.execute(
            select(dashboard_sessions).where(dashboard_sessions.c.key_id == key_id)
        ).all()
    assert left == []


def test_revoking_the_key_with_the_cli_ends_its_sessions(ui: Ui) -> None:
    key = ui.new_key({"read"})
    client = ui.sign_in(key)
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(key))
    assert record is not None
    done = CliRunner().invoke(
        cli,
        ["keys", "revoke", record.key_id, "--tenant", "default"],
        env={"STRIPEMETER_DATABASE_URL": ui.store.url},
    )
    assert done.exit_code == 0, done.output
    assert client.get("/ui/overview").status_code == 303


def test_a_session_of_a_revoked_key_is_refused_even_if_its_row_remains(ui: Ui) -> None:
    key = ui.new_key({"read"})
    client = ui.sign_in(key)
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(key))
        assert record is not None
        uow.api_keys.revoke("default", record.key_id, 1)  # the row only, sessions left
        uow.commit()
    assert client.get("/ui/overview").status_code == 303


def test_the_other_keys_sessions_survive_a_revocation(ui: Ui) -> None:
    key = ui.new_key({"read"})
    other = ui.sign_in()
    ui.sign_in(key)
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(key))
        assert record is not None
        revoke_key(uow, "default", record.key_id, ui.clock.now())
        uow.commit()
    assert other.get("/ui/overview").status_code == 200


def test_a_rotation_without_grace_ends_the_old_keys_sessions(ui: Ui) -> None:
    key = ui.new_key({"read"})
    client = ui.sign_in(key)
    with ui.store.unit_of_work() as uow:
        record = uow.api_keys.by_hash(hash_key(key))
        assert record is not None
        rotate_key(uow, "default", record.key_id, ui.clock.now())
        uow.commit()
    assert client.get("/ui/overview").status_code == 303


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
