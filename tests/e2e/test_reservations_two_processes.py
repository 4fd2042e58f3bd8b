"""Reservations across two `serve` processes on one PostgreSQL: 60 concurrent reservers,
spread over both processes, never over-commit a hard limit (the grant's row lock holds
across processes, not only across the threads of one)."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.e2e.test_scale_out import Process, _ready, _wait
from tests.e2e.test_server_process import free_port
from tests.support.postgres import PostgresServer

KEY = "smk_reservations_two_procs_01"
RESERVERS = 60
LIMIT = Decimal(100)


@pytest.fixture
def two_processes(pg_server: PostgresServer, tmp_path: Path) -> Iterator[list[str]]:
    url = pg_server.create_database("reservations_two")
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, datetime.now(UTC), KEY)
        uow.commit()
    store.close()
    env = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": url,
        "STRIPEMETER_LOCAL_STRIPE": "off",
        "STRIPEMETER_PUSH_WORKER": "false",
        "STRIPEMETER_RATE_LIMIT_PER_SECOND": "10000",
        "STRIPEMETER_RATE_LIMIT_BURST": "10000",
    }
    env.pop("STRIPEMETER_BOOTSTRAP_KEY", None)
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        urls = []
        for n, port in enumerate(ports):
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


def test_reservations_over_two_processes_never_over_commit(two_processes: list[str]) -> None:
    one, two = two_processes
    auth = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(headers=auth, timeout=60) as http:
        assert http.post(f"{one}/v1/metrics", json={"code": "tokens"}).status_code == 201
        assert (
            http.put(
                f"{two}/v1/features/tokens", json={"type": "metered", "metric": "tokens"}
            ).status_code
            == 201
        )
        assert (
            http.put(
                f"{one}/v1/customers/cus_1/entitlements/tokens", json={"limit": str(LIMIT)}
            ).status_code
            == 201
        )
    quantities = [random.Random(i).randint(1, 5) for i in range(RESERVERS)]
    start = threading.Barrier(RESERVERS)

    def reserve(index: int) -> int:
        with httpx.Client(headers=auth, timeout=60) as http:
            start.wait()
            return http.post(
                f"{two_processes[index % 2]}/v1/entitlements/reservations",
                json={
                    "customerRef": "cus_1",
                    "feature": "tokens",
                    "quantity": str(quantities[index]),
                    "idempotencyKey": f"r-{index}",
                    "ttlSeconds": 600,
                },
            ).status_code

    with ThreadPoolExecutor(RESERVERS) as pool:
        statuses = list(pool.map(reserve, range(RESERVERS)))
    with httpx.Client(headers=auth, timeout=60) as http:
        held = Decimal(http.get(f"{one}/v1/customers/cus_1/entitlements/tokens").json()["reserved"])
    granted = sum(Decimal(q) for s, q in zip(statuses, quantities, strict=True) if s == 201)
    refused = [q for s, q in zip(statuses, quantities, strict=True) if s == 409]
    assert set(statuses) <= {201, 409}
    assert granted == held <= LIMIT
    assert all(LIMIT - held < q for q in refused)
