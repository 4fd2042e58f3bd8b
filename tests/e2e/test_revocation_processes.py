"""Immediate revocation across `serve` processes: ingest admits keys from each process's own
cache, and the ingest group's transaction re-checks the tenant's key stamp (ADR 0800). Two
nodes on one PostgreSQL, no rate limit (so no request takes the shared bucket's per-request
path): once a revoke answered on one node, the other refuses the key it has cached, and
nothing of the refused requests is counted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stripemeter_server.domain.timestamps import format_timestamp
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.e2e.test_scale_out import Process, _ready, _wait
from tests.e2e.test_server_process import free_port
from tests.support.postgres import PostgresServer

ADMIN = "smk_revocation_processes_admin_01"


@pytest.fixture
def two_nodes(pg_server: PostgresServer, tmp_path: Path) -> Iterator[list[str]]:
    url = pg_server.create_database("revocation_processes")
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, datetime.now(UTC), ADMIN)
        uow.commit()
    store.close()
    env = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": url,
        "STRIPEMETER_LOCAL_STRIPE": "off",
        "STRIPEMETER_PUSH_WORKER": "false",
        "STRIPEMETER_RATE_LIMIT_PER_SECOND": "0",
    }
    env.pop("STRIPEMETER_BOOTSTRAP_KEY", None)
    with ExitStack() as stack:
        urls = []
        for n in range(2):
            port = free_port()
            node = Process(
                ["serve", "--host", "127.0.0.1", "--port", str(port)],
                env,
                tmp_path / f"node{n}.log",
            )
            stack.callback(node.stop)
            base = f"http://127.0.0.1:{port}"
            _wait(lambda b=base: _ready(b), "node did not become ready", node.log)
            urls.append(base)
        yield urls


def _ingest(http: httpx.Client, base: str, key: str, n: int) -> httpx.Response:
    event = {
        "metric": "calls",
        "customerRef": "cus_1",
        "idempotencyKey": f"k{n}",
        "ts": format_timestamp(datetime.now(UTC) - timedelta(minutes=1)),
    }
    return http.post(
        f"{base}/v1/events/ingest",
        json={"events": [event]},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_key_revoked_on_one_process_is_refused_by_another_that_cached_it(
    two_nodes: list[str],
) -> None:
    one, two = two_nodes
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(timeout=30) as http:
        defined = http.post(
            f"{one}/v1/metrics", json={"code": "calls", "aggregation": "sum"}, headers=admin
        )
        assert defined.status_code == 201, defined.text
        created: Any = http.post(
            f"{one}/v1/admin/api-keys", json={"scopes": ["ingest"]}, headers=admin
        ).json()
        for n in range(4):  # both processes admit the key, then serve it from their caches
            assert _ingest(http, (one, two)[n % 2], created["key"], n).status_code == 200
        revoked = http.delete(f"{one}/v1/admin/api-keys/{created['id']}", headers=admin)
        assert revoked.status_code == 200
        for n, base in enumerate((two, one), start=4):
            refused = _ingest(http, base, created["key"], n)
            assert (refused.status_code, refused.json()["code"]) == (401, "revoked_api_key")
        usage = http.get(
            f"{two}/v1/usage/current", params={"customerRef": "cus_1"}, headers=admin
        ).json()
        assert [m["value"] for m in usage["metrics"]] == ["4"]
