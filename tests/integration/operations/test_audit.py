"""The audit log: every change of keys, metrics, prices, corrections, period closes,
mappings and the Stripe account is recorded — who, what, when, before/after — in the same
transaction as the change; secrets appear only as "changed"/"set"."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from stripemeter_server.cli.main import app as cli
from tests.integration.operations.conftest import ADMIN, Node, nodes

SECRET_KEY = "sk_test_AuditSecretValue0001"
WEBHOOK_SECRET = "whsec_AuditWebhookSecret0001"


def _admin_id(node: Node) -> str:
    keys = node.call("GET", "/v1/admin/api-keys").json()["data"]
    found: str = next(k["id"] for k in keys if k["prefix"] == ADMIN[:8])
    return found


def _trail(node: Node, **params: Any) -> list[dict[str, Any]]:
    found = node.call("GET", "/v1/audit", params=params)
    assert found.status_code == 200, found.text
    return list(found.json()["data"])


def _changes(node: Node) -> None:
    def ok(method: str, path: str, **kw: Any) -> Any:
        done = node.call(method, path, **kw)
        assert done.status_code < 300, (path, done.text)
        return done.json() if done.content else None

    ok("POST", "/v1/metrics", json={"code": "calls", "aggregation": "sum"})
    ok("PATCH", "/v1/metrics/calls", json={"displayName": "Calls"})
    ok(
        "PUT",
        "/v1/prices/calls",
        json={"model": "per_unit", "currency": "usd", "unitAmount": "0.01"},
    )
    ok(
        "PUT",
        "/v1/prices/calls",
        json={"model": "per_unit", "currency": "usd", "unitAmount": "0.02"},
    )
    ok(
        "POST",
        "/v1/events/ingest",
        json={
            "events": [
                {"metric": "calls", "customerRef": "cus_1", "quantity": 5, "idempotencyKey": "e1"}
            ]
        },
    )
    adjustment = ok(
        "POST",
        "/v1/adjustments",
        json={"metric": "calls", "customerRef": "cus_1", "delta": "2", "reason": "credit"},
    )
    ok("POST", f"/v1/adjustments/{adjustment['id']}/revert")
    ok("POST", "/v1/events/e1/void")
    ok("PUT", "/v1/stripe/account", json={"secretKey": SECRET_KEY, "webhookSecret": WEBHOOK_SECRET})
    ok("PUT", "/v1/stripe/account", json={"secretKey": SECRET_KEY})
    ok("PUT", "/v1/mappings/calls", json={"mode": "meter_events"})
    ok("DELETE", "/v1/mappings/calls")
    ok("POST", "/v1/periods/close", json={"customerRef": "cus_1", "metric": "calls"})
    key = ok("POST", "/v1/admin/api-keys", json={"scopes": ["read"], "label": "ro"})
    ok("POST", f"/v1/admin/api-keys/{key['id']}/rotate")
    ok("DELETE", "/v1/prices/calls")


def test_every_change_is_recorded_with_who_what_and_before_after(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        _changes(node)
        admin = _admin_id(node)
        trail = list(reversed(_trail(node, limit=1000)))
    bootstrap, trail = trail[:2], trail[2:]
    assert [(e["action"], e["actor"]) for e in bootstrap] == [
        ("tenant.create", "system"),
        ("api_key.create", "system"),
    ]
    actions = [e["action"] for e in trail]
    assert actions == [
        "metric.create",
        "metric.update",
        "price.put",
        "price.put",
        "adjustment.create",
        "adjustment.revert",
        "event.void",
        "stripe_account.put",
        "stripe_account.put",
        "mapping.put",
        "mapping.delete",
        "period.close",
        "api_key.create",
        "api_key.rotate",
        "price.delete",
    ]
    assert {e["actor"] for e in trail} == {admin}
    assert all(e["at"] == "2025-01-16T14:30:00.000000Z" and e["requestId"] for e in trail)
    second_price = trail[3]
    assert (second_price["before"]["unitAmount"], second_price["after"]["unitAmount"]) == (
        "0.01",
        "0.02",
    )
    first_account, second_account = trail[7], trail[8]
    assert first_account["before"] is None
    assert first_account["after"]["secretKey"] == "changed"
    assert first_account["after"]["webhookSecret"] == "changed"
    assert second_account["before"]["secretKey"] == "set"
    assert second_account["after"]["secretKey"] == "unchanged"
    assert second_account["after"]["webhookSecret"] is None
    rotation = trail[13]
    assert rotation["before"]["revokedAt"] is None and rotation["after"]["revokedAt"]
    assert rotation["after"]["replacedBy"].startswith("key_")


def test_no_secret_reaches_the_trail(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        _changes(node)
        text = node.call("GET", "/v1/audit", params={"limit": 1000}).text
    assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
    assert ADMIN not in text


def test_cli_changes_name_the_cli(db_url: str) -> None:
    env = {"STRIPEMETER_DATABASE_URL": db_url}
    created = CliRunner().invoke(cli, ["keys", "create", "--tenant", "default"], env=env)
    assert created.exit_code == 0, created.output
    key_id = created.output.split()[0]
    assert (
        CliRunner()
        .invoke(cli, ["keys", "revoke", key_id, "--tenant", "default"], env=env)
        .exit_code
        == 0
    )
    with nodes(db_url, count=1) as (node,):
        trail = _trail(node, targetId=key_id)
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("api_key.revoke", "cli"),
        ("api_key.create", "cli"),
    ]
    assert trail[0]["before"]["revokedAt"] is None and trail[0]["after"]["revokedAt"]


def test_a_change_that_fails_leaves_no_entry(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        node.call("POST", "/v1/metrics", json={"code": "calls", "aggregation": "sum"})
        conflict = node.call("POST", "/v1/metrics", json={"code": "calls", "aggregation": "max"})
        assert conflict.status_code == 409
        missing = node.call("DELETE", "/v1/prices/calls")
        assert missing.status_code == 404
        assert [e["action"] for e in _trail(node)] == [
            "metric.create",
            "api_key.create",
            "tenant.create",
        ]  # and the bootstrap


def test_keyset_pages_and_filters(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        for n in range(5):
            node.call("POST", "/v1/metrics", json={"code": f"m{n}"})
        node.call(
            "PUT", "/v1/prices/m0", json={"model": "flat", "currency": "usd", "flatAmount": "1"}
        )
        seen, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 2, "targetType": "metric"}
            if cursor:
                params["cursor"] = cursor
            page = node.call("GET", "/v1/audit", params=params).json()
            seen += [e["targetId"] for e in page["data"]]
            cursor = page["nextCursor"]
            if not page["hasMore"]:
                break
        assert sorted(seen) == [f"m{n}" for n in range(5)] and len(set(seen)) == 5
        assert [e["targetId"] for e in _trail(node, action="price.put")] == ["m0"]
        assert _trail(node, **{"from": "2025-01-17T00:00:00Z"}) == []
        bad = node.call("GET", "/v1/audit", params={"cursor": "nonsense"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


def test_scope_and_tenant_isolation(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        reader = node.call("POST", "/v1/admin/api-keys", json={"scopes": ["read"]}).json()
        assert node.call("GET", "/v1/audit", key=reader["key"]).status_code == 403
        other = CliRunner().invoke(
            cli,
            ["keys", "create", "--tenant", "other", "--scopes", "admin", "--create-tenant"],
            env={"STRIPEMETER_DATABASE_URL": node.store.url},
        )
        assert other.exit_code == 0, other.output
        other_key = other.output.split()[1]
        theirs = node.call("GET", "/v1/audit", key=other_key).json()["data"]
        assert [e["action"] for e in theirs] == ["api_key.create", "tenant.create"]
        assert (
            node.call("GET", "/v1/audit", key=other_key, params={"tenantId": "default"}).status_code
            == 403
        )


def test_backfills_and_four_eyes_decisions_are_in_the_trail(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        second = node.call(
            "POST", "/v1/admin/api-keys", json={"scopes": ["admin"], "label": "checker"}
        ).json()["key"]
        node.call("POST", "/v1/metrics", json={"code": "calls", "aggregation": "sum"})
        node.call("PUT", "/v1/corrections/policy", json={"fourEyes": True})
        session = node.call("POST", "/v1/backfills", json={"metric": "calls"}).json()
        node.call("POST", f"/v1/backfills/{session['id']}/close")
        approved = node.call("POST", f"/v1/backfills/{session['id']}/approve", key=second)
        assert approved.status_code == 200, approved.text
        node.call("POST", f"/v1/backfills/{session['id']}/revert")
        actions = [e["action"] for e in reversed(_trail(node, targetType="backfill_close"))] + [
            e["action"] for e in reversed(_trail(node, targetType="backfill"))
        ]
        policy = [e["action"] for e in _trail(node, targetType="tenant")]
    assert actions == [
        "backfill_close.approve",
        "backfill.open",
        "backfill.close",
        "backfill.revert",
    ]
    assert "corrections_policy.update" in policy
