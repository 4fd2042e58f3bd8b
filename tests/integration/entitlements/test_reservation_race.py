"""Concurrent reservations never over-commit a hard limit: 60 reservers at once, spread over
two apps with their own connection pools on one database (as two nodes would be), on SQLite
and PostgreSQL. Holds only grow during the race, so a refusal means the quantity did not fit
then and still does not fit at the end: the exact invariant checked below."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from tests.integration.operations.conftest import Node, db_url, nodes  # noqa: F401

RESERVERS = 60
LIMIT = Decimal(100)


def _setup(node: Node) -> None:
    assert node.call("POST", "/v1/metrics", json={"code": "tokens"}).status_code == 201
    assert (
        node.call(
            "PUT", "/v1/features/tokens", json={"type": "metered", "metric": "tokens"}
        ).status_code
        == 201
    )
    assert (
        node.call(
            "PUT", "/v1/customers/cus_1/entitlements/tokens", json={"limit": str(LIMIT)}
        ).status_code
        == 201
    )


def _race(pair: list[Node], quantities: list[int]) -> list[tuple[int, int]]:
    start = threading.Barrier(len(quantities))

    def one(index: int) -> tuple[int, int]:
        start.wait()
        response = pair[index % 2].call(
            "POST",
            "/v1/entitlements/reservations",
            json={
                "customerRef": "cus_1",
                "feature": "tokens",
                "quantity": str(quantities[index]),
                "idempotencyKey": f"race-{index}",
                "ttlSeconds": 600,
            },
        )
        return response.status_code, quantities[index]

    with ThreadPoolExecutor(max_workers=len(quantities)) as pool:
        return list(pool.map(one, range(len(quantities))))


def test_concurrent_reservations_never_over_commit_a_hard_limit(db_url: str) -> None:  # noqa: F811
    quantities = [random.Random(i).randint(1, 5) for i in range(RESERVERS)]
    with nodes(db_url) as pair:
        _setup(pair[0])
        outcomes = _race(pair, quantities)
        held = Decimal(
            pair[1].call("GET", "/v1/customers/cus_1/entitlements/tokens").json()["reserved"]
        )
    assert {status for status, _ in outcomes} <= {201, 409}
    granted = sum(Decimal(q) for status, q in outcomes if status == 201)
    refused = [q for status, q in outcomes if status == 409]
    assert granted == held <= LIMIT
    assert all(LIMIT - held < q for q in refused)
