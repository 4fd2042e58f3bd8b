"""The floors ``benchmarks.entitlements`` prints beside its figures, measured in the same run.

* **write floor**: one one-row write transaction per call through the raw driver, durable
  as the store is configured (SQLite: WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``;
  PostgreSQL: ``fsync`` and ``synchronous_commit`` on) — the least a reservation, an
  acknowledged write, can cost before any Python of the server runs.
* **round-trip floor** (PostgreSQL): one ``SELECT 1`` per call on one connection — what each
  statement of a check costs in waiting alone.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable

import psycopg

FLOOR_TABLE = "bench_floor"


def _percentiles(call: Callable[[int], None], requests: int) -> tuple[float, float]:
    for n in range(20):
        call(requests + n)
    times = []
    for n in range(requests):
        started = time.perf_counter()
        call(n)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def floors(url: str, requests: int) -> dict[str, tuple[float, float]]:
    """(p50 ms, p99 ms) of each floor of the store at ``url``."""
    if url.startswith("sqlite:///"):
        return {"write floor": _sqlite_write(url.removeprefix("sqlite:///"), requests)}
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (n bigint, body text)")
        try:
            trip = _percentiles(lambda n: conn.execute("SELECT 1").fetchall() and None, requests)
            conn.autocommit = False

            def write(n: int) -> None:
                conn.execute(f"INSERT INTO {FLOOR_TABLE} VALUES (%s, %s)", (n, "x" * 200))
                conn.commit()

            written = _percentiles(write, requests)
        finally:
            conn.autocommit = True
            conn.execute(f"DROP TABLE {FLOOR_TABLE}")
    return {"round-trip floor": trip, "write floor": written}


def _sqlite_write(path: str, requests: int) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # the server's setting (config)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (n INTEGER, body TEXT)")

        def write(n: int) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"INSERT INTO {FLOOR_TABLE} VALUES (?, ?)", (n, "x" * 200))
            conn.execute("COMMIT")

        return _percentiles(write, requests)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        conn.close()
