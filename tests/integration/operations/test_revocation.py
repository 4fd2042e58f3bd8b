"""Revocation and rotation hold on every node at once: keys are read from the database on
every request (no per-process cache), so a revoke committed by one node — or by the CLI —
is refused by every other node on its very next request (ADR 0012)."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from stripemeter_server.cli.main import app as cli
from tests.integration.operations.conftest import ADMIN, Node, nodes


def _new_key(node: Node, scopes: tuple[str, ...] = ("ingest", "read")) -> dict[str, Any]:
    created = node.call("POST", "/v1/admin/api-keys", json={"scopes": list(scopes)})
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


def test_a_key_revoked_on_one_node_is_refused_by_the_other_at_once(pg_url: str) -> None:
    with nodes(pg_url) as (one, two):
        key = _new_key(one)
        for node in (one, two):  # both nodes have served the key (a cache would hold it now)
            assert node.call("GET", "/v1/metrics", key=key["key"]).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{key['id']}").status_code == 200
        for node in (two, one):
            refused = node.call("GET", "/v1/metrics", key=key["key"])
            assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")


def test_a_key_revoked_by_the_cli_is_refused_by_every_node(db_url: str) -> None:
    with nodes(db_url) as (one, two):
        key = _new_key(one)
        assert two.call("GET", "/v1/metrics", key=key["key"]).status_code == 200
        done = CliRunner().invoke(
            cli,
            ["keys", "revoke", key["id"], "--tenant", "default"],
            env={"STRIPEMETER_DATABASE_URL": db_url},
        )
        assert done.exit_code == 0, done.output
        for node in (one, two):
            assert node.call("GET", "/v1/metrics", key=key["key"]).status_code == 401


def test_rotation_shows_the_new_secret_once_and_the_old_one_stops_at_once(pg_url: str) -> None:
    with nodes(pg_url) as (one, two):
        old = _new_key(one)
        rotated = one.call("POST", f"/v1/admin/api-keys/{old['id']}/rotate")
        assert rotated.status_code == 201, rotated.text
        new = rotated.json()
        assert new["replaces"] == old["id"] and new["scopes"] == old["scopes"]
        assert two.call("GET", "/v1/metrics", key=old["key"]).status_code == 401
        assert two.call("GET", "/v1/metrics", key=new["key"]).status_code == 200
        listed = {k["id"]: k for k in one.call("GET", "/v1/admin/api-keys").json()["data"]}
        assert "key" not in listed[new["id"]] and listed[old["id"]]["revokedAt"] is not None


def test_rotation_with_grace_keeps_the_old_key_until_the_stated_time(db_url: str) -> None:
    """The app's clock is frozen, so 'until' is exact: inside the grace the old key works;
    a revoke during the grace ends it at once."""
    with nodes(db_url) as (one, two):
        old = _new_key(one)
        rotated = one.call(
            "POST", f"/v1/admin/api-keys/{old['id']}/rotate", json={"graceSeconds": 300}
        )
        assert rotated.status_code == 201, rotated.text
        assert two.call("GET", "/v1/metrics", key=old["key"]).status_code == 200
        listed = {k["id"]: k for k in one.call("GET", "/v1/admin/api-keys").json()["data"]}
        assert listed[old["id"]]["expiresAt"] == "2025-01-16T14:35:00.000000Z"
        assert one.call("DELETE", f"/v1/admin/api-keys/{old['id']}").status_code == 200
        assert two.call("GET", "/v1/metrics", key=old["key"]).status_code == 401


def test_grace_is_bounded(db_url: str) -> None:
    with nodes(db_url, count=1) as (one,):
        old = _new_key(one)
        for bad in (-1, 86_401, "300", True):
            refused = one.call(
                "POST", f"/v1/admin/api-keys/{old['id']}/rotate", json={"graceSeconds": bad}
            )
            assert (refused.status_code, refused.json()["code"]) == (422, "invalid_grace")


def test_the_admin_key_itself_is_not_cached_either(pg_url: str) -> None:
    with nodes(pg_url) as (one, two):
        other_admin = _new_key(one, scopes=("admin",))
        assert two.call("GET", "/v1/admin/api-keys", key=other_admin["key"]).status_code == 200
        assert (
            two.call("DELETE", f"/v1/admin/api-keys/{other_admin['id']}", key=ADMIN).status_code
            == 200
        )
        assert one.call("GET", "/v1/admin/api-keys", key=other_admin["key"]).status_code == 401
