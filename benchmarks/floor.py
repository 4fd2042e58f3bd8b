"""The plain floor: the work any correct ingest must do, in one loop, with the raw driver.

For every request body the load generator sends (the same bytes): parse it with exact
decimals, fingerprint each event (SHA-256 of its canonical JSON), find which idempotency keys
already exist (one ``SELECT ... IN`` / ``= ANY`` per body), insert the new rows (one
``executemany`` / ``unnest``), fold them into per-(metric, customer, month) counter deltas in
Python, upsert the counters (``value = value + excluded.delta``) and commit — one transaction
per request body, i.e. per 500 events in the batch scenarios and per event in the
single-event ones. No HTTP, no validation beyond what the parse needs, no tenant, no alerts.

It runs in the harness process, on tables of its own in a scratch store beside the served one
(a scratch SQLite file; a scratch database on the same PostgreSQL server) with the server's
durability settings (SQLite: WAL, ``synchronous=NORMAL``; PostgreSQL: fsync and synchronous
commit on), right after the server's phase on the same workload, so that server ÷ floor is a
ratio measured under the same machine load.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from benchmarks.loadgen import Request

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: (idempotency key, metric, customer, quantity, ts_us, received_us, fingerprint)
Row = tuple[str, str, str, Decimal, int, int, str]
#: (metric, customer, period start) -> [count, sum]
Deltas = dict[tuple[str, str, int], list[Any]]


class FloorStore(Protocol):
    """The four statements of the floor on one store."""

    def existing(self, keys: Sequence[str]) -> dict[str, str]: ...
    def insert(self, rows: Sequence[Row]) -> None: ...
    def upsert_counters(self, deltas: Deltas) -> None: ...
    def commit(self) -> None: ...
    def sums(self, metric: str) -> dict[str, Decimal]: ...
    def close(self) -> None: ...


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dec_add(a: str, b: str) -> str:
    """Exact decimal addition for SQLite, which has no decimal type (its ``+`` is binary
    floating point): the counter column holds canonical decimal text, as the server's does."""
    return format(Decimal(a) + Decimal(b), "f")


class SqliteFloor:
    """Scratch SQLite file, same pragmas as the server (WAL, synchronous=NORMAL)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.create_function("dec_add", 2, _dec_add, deterministic=True)
        self.conn.executescript(
            "CREATE TABLE IF NOT EXISTS floor_events (seq INTEGER PRIMARY KEY,"
            " idempotency_key TEXT NOT NULL UNIQUE, metric TEXT NOT NULL,"
            " customer_ref TEXT NOT NULL, quantity TEXT NOT NULL, ts_us INTEGER NOT NULL,"
            " received_us INTEGER NOT NULL, fingerprint TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS floor_counters (metric TEXT NOT NULL,"
            " customer_ref TEXT NOT NULL, period_start_us INTEGER NOT NULL,"
            " count INTEGER NOT NULL, sum TEXT NOT NULL,"
            " PRIMARY KEY (metric, customer_ref, period_start_us));"
        )
        self._placeholders: dict[int, str] = {}
        self.conn.execute("BEGIN IMMEDIATE")

    def existing(self, keys: Sequence[str]) -> dict[str, str]:
        marks = self._placeholders.get(len(keys))
        if marks is None:
            marks = self._placeholders[len(keys)] = ",".join("?" * len(keys))
        cursor = self.conn.execute(
            "SELECT idempotency_key, fingerprint FROM floor_events"
            f" WHERE idempotency_key IN ({marks})",
            keys,
        )
        return dict(cursor.fetchall())

    def insert(self, rows: Sequence[Row]) -> None:
        self.conn.executemany(
            "INSERT INTO floor_events (idempotency_key, metric, customer_ref, quantity, ts_us,"
            " received_us, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(k, m, c, format(q, "f"), t, r, f) for k, m, c, q, t, r, f in rows],
        )

    def upsert_counters(self, deltas: Deltas) -> None:
        self.conn.executemany(
            "INSERT INTO floor_counters (metric, customer_ref, period_start_us, count, sum)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (metric, customer_ref, period_start_us)"
            " DO UPDATE SET count = count + excluded.count, sum = dec_add(sum, excluded.sum)",
            [(m, c, p, n, format(s, "f")) for (m, c, p), (n, s) in sorted(deltas.items())],
        )

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN IMMEDIATE")

    def sums(self, metric: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for customer, value in self.conn.execute(
            "SELECT customer_ref, sum FROM floor_counters WHERE metric = ?", (metric,)
        ):
            out[customer] = out.get(customer, Decimal(0)) + Decimal(value)
        return out

    def close(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


class PostgresFloor:
    """Tables in a scratch database on the benchmark's PostgreSQL server; arrays + unnest."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS floor_events (seq BIGSERIAL PRIMARY KEY,"
            " idempotency_key TEXT NOT NULL UNIQUE, metric TEXT NOT NULL,"
            " customer_ref TEXT NOT NULL, quantity NUMERIC NOT NULL, ts_us BIGINT NOT NULL,"
            " received_us BIGINT NOT NULL, fingerprint TEXT NOT NULL)"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS floor_counters (metric TEXT NOT NULL,"
            " customer_ref TEXT NOT NULL, period_start_us BIGINT NOT NULL,"
            " count BIGINT NOT NULL, sum NUMERIC NOT NULL,"
            " PRIMARY KEY (metric, customer_ref, period_start_us))"
        )
        self.conn.commit()

    def existing(self, keys: Sequence[str]) -> dict[str, str]:
        cursor = self.conn.execute(
            "SELECT idempotency_key, fingerprint FROM floor_events WHERE idempotency_key = ANY(%s)",
            (list(keys),),
        )
        return dict(cursor.fetchall())

    def insert(self, rows: Sequence[Row]) -> None:
        self.conn.execute(
            "INSERT INTO floor_events (idempotency_key, metric, customer_ref, quantity, ts_us,"
            " received_us, fingerprint) SELECT * FROM unnest(%s::text[], %s::text[],"
            " %s::text[], %s::numeric[], %s::bigint[], %s::bigint[], %s::text[])",
            [list(column) for column in zip(*rows, strict=True)],
        )

    def upsert_counters(self, deltas: Deltas) -> None:
        items = sorted(deltas.items())
        self.conn.execute(
            "INSERT INTO floor_counters AS c (metric, customer_ref, period_start_us, count, sum)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[],"
            " %s::numeric[]) ON CONFLICT (metric, customer_ref, period_start_us)"
            " DO UPDATE SET count = c.count + excluded.count, sum = c.sum + excluded.sum",
            (
                [k[0] for k, _ in items],
                [k[1] for k, _ in items],
                [k[2] for k, _ in items],
                [v[0] for _, v in items],
                [v[1] for _, v in items],
            ),
        )

    def commit(self) -> None:
        self.conn.commit()

    def sums(self, metric: str) -> dict[str, Decimal]:
        rows = self.conn.execute(
            "SELECT customer_ref, sum(sum) FROM floor_counters"
            " WHERE metric = %s GROUP BY customer_ref",
            (metric,),
        ).fetchall()
        self.conn.commit()
        return dict(rows)

    def close(self) -> None:
        self.conn.close()


def open_floor(url: str) -> FloorStore:
    """A floor store for a ``sqlite:///path`` or ``postgresql+psycopg://`` URL."""
    if url.startswith("sqlite:///"):
        return SqliteFloor(url.removeprefix("sqlite:///"))
    return PostgresFloor(url)


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0


@dataclass
class _Parsed:
    rows: dict[str, Row] = field(default_factory=dict)
    duplicates: int = 0
    conflicts: int = 0


def _fingerprint(event: dict[str, Any]) -> str:
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _parse(body: bytes, received_us: int) -> _Parsed:
    """Decode with exact decimals and fingerprint; a key repeated inside the body is a
    duplicate (same fingerprint) or a conflict (different one)."""
    parsed = _Parsed()
    for event in json.loads(body, parse_float=Decimal)["events"]:
        key = event["idempotencyKey"]
        fingerprint = _fingerprint(event)
        if key in parsed.rows:
            same = parsed.rows[key][6] == fingerprint
            parsed.duplicates += same
            parsed.conflicts += not same
            continue
        quantity = event.get("quantity", 1)
        quantity = quantity if isinstance(quantity, Decimal) else Decimal(quantity)
        ts = datetime.fromisoformat(event["ts"])
        parsed.rows[key] = (
            key,
            event["metric"],
            event["customerRef"],
            quantity,
            _micros(ts),
            received_us,
            fingerprint,
        )
    return parsed


def _period_start(ts_us: int, cache: dict[int, int]) -> int:
    """Start of the UTC month containing ``ts_us`` (cached per day: it is the same all day)."""
    day = ts_us // 86_400_000_000
    start = cache.get(day)
    if start is None:
        moment = datetime.fromtimestamp(day * 86_400, UTC)
        start = cache[day] = _micros(moment.replace(day=1))
    return start


def _fold(rows: Iterable[Row], cache: dict[int, int]) -> Deltas:
    deltas: Deltas = {}
    for _key, metric, customer, quantity, ts_us, _received, _fp in rows:
        slot = (metric, customer, _period_start(ts_us, cache))
        delta = deltas.get(slot)
        if delta is None:
            deltas[slot] = [1, quantity]
        else:
            delta[0] += 1
            delta[1] += quantity
    return deltas


def ingest_body(store: FloorStore, body: bytes, cache: dict[int, int]) -> Outcome:
    """One request body, one transaction."""
    parsed = _parse(body, _micros(datetime.now(UTC)))
    outcome = Outcome(duplicates=parsed.duplicates, conflicts=parsed.conflicts)
    for key, fingerprint in store.existing(list(parsed.rows)).items():
        same = parsed.rows.pop(key)[6] == fingerprint
        outcome.duplicates += same
        outcome.conflicts += not same
    new = list(parsed.rows.values())
    if new:
        store.insert(new)
        store.upsert_counters(_fold(new, cache))
    store.commit()
    outcome.accepted = len(new)
    return outcome


@dataclass
class FloorRun:
    """What one floor phase did: the same shape of figures as a load-generator phase."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    events: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    timed_out: bool = False


def run_floor(
    store: FloorStore, requests: Sequence[Request], *, time_limit: float, on_progress: Any = None
) -> FloorRun:
    """Every request body in order, one at a time, until done or ``time_limit`` passes."""
    run, cache = FloorRun(), dict[int, int]()
    cpu0, start = time.process_time(), time.perf_counter()
    deadline = start + time_limit
    for index, request in enumerate(requests):
        t0 = time.perf_counter()
        if t0 > deadline:
            run.timed_out = True
            break
        assert request.body is not None
        got = ingest_body(store, request.body, cache)
        run.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
        run.outcome.accepted += got.accepted
        run.outcome.duplicates += got.duplicates
        run.outcome.conflicts += got.conflicts
        run.events += request.events
        run.completed.append(index)
        if on_progress is not None and index % 20 == 0:
            on_progress(index + 1)
    run.wall_s = time.perf_counter() - start
    run.cpu_s = time.process_time() - cpu0
    return run
