"""Ingest admits keys from a per-process cache, and stays as strict as the uncached routes:
the ingest group's own transaction reads the tenant's key stamp, so a key revoked or
rotated on any node (or by the CLI) is refused by every node once the revoke has returned
(ADR 0800). Each node here has served the key first, so its cache holds it; no rate limit
applies (``UNLIMITED``), so PostgreSQL nodes admit from the cache too instead of taking a
token from the shared bucket row."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from stripemeter_server.cli.main import app as cli
from tests.integration.operations.conftest import nodes

UNLIMITED: dict[str, Any] = {"rate_limit_per_second": 0.0}
EVENT = {"metric": "calls", "customerRef": "cus_1", "ts": "2025-01-16T14:00:00Z"}


def _new_key(node: Any, scopes: tuple[str, ...] = ("ingest", "read")) -> Any:
    created = node.call("POST", "/v1/admin/api-keys", json={"scopes": list(scopes)})
    assert created.status_code == 201, created.text
    return created.json()


def _ingest(node: Any, key: str, n: int) -> Any:
    return node.call(
        "POST",
        "/v1/events/ingest",
        key=key,
        json={"events": [{**EVENT, "idempotencyKey": f"k{n}"}]},
    )


def _usage(node: Any) -> str:
    answer = node.call("GET", "/v1/usage/current", params={"customerRef": "cus_1"}).json()
    return str(answer["metrics"][0]["value"])


def test_a_key_revoked_on_one_node_is_refused_by_the_others_cached_ingest(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        key = _new_key(one)
        for n, node in enumerate((one, two)):  # both caches now hold the key
            assert _ingest(node, key["key"], n).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{key['id']}").status_code == 200
        for n, node in enumerate((two, one), start=2):
            refused = _ingest(node, key["key"], n)
            assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")
        assert _usage(one) == "2"  # nothing of the refused requests was stored


def test_a_key_revoked_by_the_cli_is_refused_by_every_node_cached_ingest(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        key = _new_key(one)
        for n, node in enumerate((one, two)):
            assert _ingest(node, key["key"], n).status_code == 200
        done = CliRunner().invoke(
            cli,
            ["keys", "revoke", key["id"], "--tenant", "default"],
            env={"STRIPEMETER_DATABASE_URL": db_url},
        )
        assert done.exit_code == 0, done.output
        assert [_ingest(node, key["key"], 9).status_code for node in (one, two)] == [401, 401]


def test_a_rotated_key_stops_and_its_successor_works_on_a_node_that_cached_it(
    db_url: str,
) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        old = _new_key(one)
        assert _ingest(two, old["key"], 0).status_code == 200
        new = one.call("POST", f"/v1/admin/api-keys/{old['id']}/rotate").json()
        assert _ingest(two, old["key"], 1).status_code == 401
        assert _ingest(two, new["key"], 2).status_code == 200


def test_revoking_another_key_of_the_tenant_leaves_a_cached_key_working(db_url: str) -> None:
    with nodes(db_url, **UNLIMITED) as (one, two):
        kept, dropped = _new_key(one), _new_key(one)
        assert _ingest(two, kept["key"], 0).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{dropped['id']}").status_code == 200
        assert _ingest(two, kept["key"], 1).status_code == 200
        assert _ingest(two, kept["key"], 2).status_code == 200  # cached again at the new stamp


def test_a_read_key_is_refused_ingest_from_the_cache_too(db_url: str) -> None:
    with nodes(db_url, count=1, **UNLIMITED) as (one,):
        reader = _new_key(one, scopes=("read",))
        for n in range(2):  # the first answer loads the key, the second is from the cache
            refused = _ingest(one, reader["key"], n)
            assert (refused.status_code, refused.json()["code"]) == (403, "missing_scope")


def test_a_rate_limit_set_on_one_node_applies_to_a_node_that_cached_the_key(
    db_url: str,
) -> None:
    """Limits travel in the stamp: a group that sees them changed drops the tenant's cached
    keys, so the next request reads the key and its limits again."""
    with nodes(db_url, **UNLIMITED) as (one, two):
        key = _new_key(one)
        assert _ingest(two, key["key"], 0).status_code == 200
        done = CliRunner().invoke(
            cli,
            ["tenants", "rate-limit", "default", "--rate", "0.001", "--burst", "1"],
            env={"STRIPEMETER_DATABASE_URL": db_url},
        )
        assert done.exit_code == 0, done.output
        statuses = [_ingest(two, key["key"], n).status_code for n in range(1, 5)]
        assert statuses[-1] == 429


def test_with_a_rate_limit_a_revoked_key_is_still_refused_by_every_node(db_url: str) -> None:
    """A limited tenant on a shared bucket spends leased tokens (ADR 0887) and is admitted
    from the key cache too: the group's stamp read still refuses a revoked key."""
    limited: dict[str, Any] = {
        "rate_limit_per_second": 0.001,
        "rate_limit_burst": 100,
        "http_processes": 2,
    }
    with nodes(db_url, **limited) as (one, two):
        key = _new_key(one)
        for n, node in enumerate((one, two)):
            assert _ingest(node, key["key"], n).status_code == 200
        assert one.call("DELETE", f"/v1/admin/api-keys/{key['id']}").status_code == 200
        for n, node in enumerate((two, one), start=2):
            refused = _ingest(node, key["key"], n)
            assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")
        assert _usage(one) == "2"
