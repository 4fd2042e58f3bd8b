"""Writes always carry an actor: the audit entries of the write routes whose runner once
took a bare tenant id (body void, backfill sessions, four-eyes decisions, the corrections
policy, rebuilds) name the calling key, never ``system``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from tests.integration.operations.conftest import Node, nodes

API = Path(__file__).resolve().parents[3] / "src" / "stripemeter_server" / "api"


def _key(node: Node, label: str) -> tuple[str, str]:
    made = node.call("POST", "/v1/admin/api-keys", json={"scopes": ["admin"], "label": label})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["key"]


def _ok(node: Node, method: str, path: str, key: str, **kw: Any) -> Any:
    done = node.call(method, path, key=key, **kw)
    assert done.status_code < 300, (path, done.text)
    return done.json() if done.content else None


def test_corrections_writes_name_the_calling_key(db_url: str) -> None:
    with nodes(db_url, count=1) as (node,):
        first_id, first = _key(node, "first")
        second_id, second = _key(node, "second")
        _ok(node, "POST", "/v1/metrics", first, json={"code": "calls", "aggregation": "sum"})
        _ok(
            node,
            "POST",
            "/v1/events/ingest",
            first,
            json={
                "events": [
                    {
                        "metric": "calls",
                        "customerRef": "cus_1",
                        "quantity": 1,
                        "idempotencyKey": "v1",
                    }
                ]
            },
        )
        _ok(node, "POST", "/v1/events/void", first, json={"idempotencyKey": "v1"})
        _ok(node, "PUT", "/v1/corrections/policy", first, json={"fourEyes": True})
        opened = _ok(node, "POST", "/v1/backfills", first, json={"metric": "calls"})
        _ok(node, "POST", f"/v1/backfills/{opened['id']}/close", first, json={})
        _ok(node, "POST", f"/v1/backfills/{opened['id']}/approve", second, json={})
        other = _ok(node, "POST", "/v1/backfills", second, json={"metric": "calls"})
        _ok(node, "POST", f"/v1/backfills/{other['id']}/revert", second, json={})
        _ok(node, "POST", "/v1/rebuilds", first, json={"metric": "calls", "waitSeconds": 5})
        trail = node.call("GET", "/v1/audit", key=first, params={"limit": 1000}).json()["data"]
    by_action: dict[str, set[str]] = {}
    for entry in trail:
        by_action.setdefault(entry["action"], set()).add(entry["actor"])
    assert by_action["event.void"] == {first_id}
    assert by_action["corrections_policy.update"] == {first_id}
    assert by_action["backfill.open"] == {first_id, second_id}
    assert by_action["backfill.close"] == {first_id}
    assert by_action["backfill_close.approve"] == {second_id}
    assert by_action["backfill.revert"] == {second_id}
    assert by_action["counters.rebuild"] == {first_id}


def _runner_calls(tree: ast.AST) -> list[str]:
    return [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"_run", "run_as_system", "run_use_case"}
    ]


def test_only_admission_and_stripe_webhooks_run_without_a_key() -> None:
    """Every route and page goes through ``read``/``write``, which take the ``Principal``;
    the keyless runner serves only admission (no key known yet), Stripe's signed webhook and
    the unauthenticated probes' reads (``/health/ready``, the ``/metrics`` gauges), sign-in
    and the admission of portal tokens."""
    allowed = {
        "deps.py": {"run_as_system", "_run", "run_use_case"},
        "invoicing.py": {"run_as_system"},
        "health.py": {"run_use_case"},
        "reconciliation_gauges.py": {"run_use_case"},
        # signing in checks the key itself; portal tokens are admitted (and a page's
        # tenant settings read) before any key or token is known
        "sign_in.py": {"run_as_system"},
        "auth.py": {"run_as_system"},
        "cors.py": {"run_as_system"},
        "page.py": {"run_as_system"},
    }
    found = {}
    for path in API.rglob("*.py"):
        calls = set(_runner_calls(ast.parse(path.read_text())))
        if calls:
            found[path.name] = calls
    assert found.keys() <= allowed.keys(), found
    for name, calls in found.items():
        assert calls <= allowed[name], (name, calls)
