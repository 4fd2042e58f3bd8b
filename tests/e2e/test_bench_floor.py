"""The benchmark's plain floor (``benchmarks/floor.py``) on both stores: it is the yardstick
the server's ingest figures are divided by, so it must do the real work and count exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.floor import FloorStore, ingest_body, open_floor, run_floor
from benchmarks.loadgen import Request
from benchmarks.workload import Totals, bodies, generate
from tests.support.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgres"])
def floor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FloorStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'floor.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        url = server.create_database(f"floor_{uuid.uuid4().hex[:12]}")
    store = open_floor(url)
    yield store
    store.close()


def _requests(prefix: str, count: int, size: int) -> tuple[list[Request], Totals]:
    events = generate(prefix, count, 20, seed=4)
    totals = Totals()
    totals.add(events)
    return [
        Request("POST", "/v1/events/ingest", body, n) for body, n in bodies(events, size)
    ], totals


def test_floor_counters_equal_the_sum_of_what_it_accepted(floor: FloorStore) -> None:
    requests, totals = _requests("a", 300, 100)
    run = run_floor(floor, requests, time_limit=60)
    assert (run.outcome.accepted, floor.sums("bench_sum")) == (300, totals.sums)


def test_floor_replay_is_all_duplicates_and_moves_no_counter(floor: FloorStore) -> None:
    requests, totals = _requests("b", 200, 50)
    run_floor(floor, requests, time_limit=60)
    replay = run_floor(floor, requests, time_limit=60)
    assert (replay.outcome.duplicates, replay.outcome.accepted, floor.sums("bench_sum")) == (
        200,
        0,
        totals.sums,
    )


def test_floor_same_key_with_another_payload_is_a_conflict(floor: FloorStore) -> None:
    first = (
        b'{"events":[{"metric":"bench_sum","customerRef":"c1","quantity":1.10,'
        b'"ts":"2026-01-02T03:04:05.000000Z","idempotencyKey":"k1"}]}'
    )
    changed = first.replace(b"1.10", b"2.20")
    ingest_body(floor, first, {})
    outcome = ingest_body(floor, changed, {})
    assert (outcome.conflicts, floor.sums("bench_sum")) == (1, {"c1": Decimal("1.10")})
