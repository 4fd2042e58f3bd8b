"""The per-tenant rate limit: a token bucket shared by every node (a row per tenant on
PostgreSQL, in process on the one-process SQLite store) → 429 problem with Retry-After.

Rates here are tiny (one token per 1000 s), so no refill can happen while a test runs: the
assertions count tokens, they do not time anything."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from stripemeter_server.cli.main import app as cli
from tests.integration.operations.conftest import Node, nodes

TINY: dict[str, Any] = {"rate_limit_per_second": 0.001, "rate_limit_burst": 3}


def test_the_bucket_is_shared_by_every_node(pg_url: str) -> None:
    with nodes(pg_url, **TINY) as (one, two):
        assert one.call("GET", "/v1/metrics").status_code == 200
        assert two.call("GET", "/v1/metrics").status_code == 200
        assert one.call("GET", "/v1/metrics").status_code == 200
        refused = two.call("GET", "/v1/metrics")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 1000


def test_several_processes_share_the_bucket_on_either_store(db_url: str) -> None:
    # ``serve --workers 2`` on SQLite: two processes, one bucket row in the database.
    with nodes(db_url, http_processes=2, **TINY) as (one, two):
        statuses = [node.call("GET", "/v1/metrics").status_code for node in (one, two) * 2]
        assert statuses == [200, 200, 200, 429]


def test_one_process_store_limits_in_process(db_url: str) -> None:
    with nodes(db_url, count=1, **TINY) as (one,):
        statuses = [one.call("GET", "/v1/metrics").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]


def test_limits_are_per_tenant_and_configurable(db_url: str) -> None:
    done = CliRunner().invoke(
        cli,
        ["tenants", "rate-limit", "default", "--rate", "0.001", "--burst", "1"],
        env={"STRIPEMETER_DATABASE_URL": db_url},
    )
    assert done.exit_code == 0, done.output
    with nodes(db_url, count=1) as (one,):  # generous defaults, but the tenant's own win
        tenant = one.call("GET", "/v1/admin/tenants").json()["data"][0]
        assert tenant["rateLimit"] == {"perSecond": 0.001, "burst": 1.0, "source": "tenant"}
        assert one.call("GET", "/v1/metrics").status_code == 429
    done = CliRunner().invoke(
        cli,
        ["tenants", "rate-limit", "default", "--default"],
        env={"STRIPEMETER_DATABASE_URL": db_url},
    )
    assert done.exit_code == 0, done.output
    with nodes(db_url, count=1) as (one,):
        assert one.call("GET", "/v1/metrics").status_code == 200
        entries = one.call("GET", "/v1/audit", params={"action": "tenant.rate_limit"}).json()
    assert [(e["actor"], e["after"]) for e in entries["data"]] == [
        ("cli", {"ratePerSecond": None, "burst": None}),
        ("cli", {"ratePerSecond": 0.001, "burst": 1.0}),
    ]


def test_a_rate_of_zero_is_unlimited(pg_url: str) -> None:
    with nodes(pg_url, count=1, rate_limit_per_second=0, rate_limit_burst=1) as (one,):
        assert {one.call("GET", "/v1/metrics").status_code for _ in range(20)} == {200}


def test_unauthenticated_requests_do_not_spend_the_tenants_tokens(pg_url: str) -> None:
    with nodes(pg_url, count=1, **TINY) as (one,):
        for _ in range(5):
            assert one.call("GET", "/v1/metrics", key="smk_not_a_key_at_all").status_code == 401
        assert [one.call("GET", "/v1/metrics").status_code for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]


def _ingest(node: Node, n: int) -> Any:
    event = {"metric": "api_calls", "customerRef": "cus_1", "idempotencyKey": f"lease-{n}"}
    return node.call("POST", "/v1/events/ingest", json={"events": [event]})


def test_ingest_leases_from_the_shared_bucket_and_never_exceeds_it(db_url: str) -> None:
    """Ingest spends tokens leased from the shared row (ADR 0887); at a tiny rate a lease is
    one token, so the nodes together admit exactly the burst, and the refusal is the same
    problem as ever."""
    with nodes(db_url, http_processes=2, **TINY) as (one, two):
        answers = [_ingest(node, n) for n, node in enumerate((one, two, one, two, one))]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        refused = answers[3]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 1000
        assert one.call("GET", "/v1/metrics").status_code == 429  # the same bucket
        stored = one.store
    with stored.unit_of_work("default", read_only=True) as uow:
        assert uow.rate_limits.of("default").settings() == (None, None)
