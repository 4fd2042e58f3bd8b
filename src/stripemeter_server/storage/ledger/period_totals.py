"""A rebuild's fast path: the ledger aggregated per counter in SQL, not folded row by row.

The periods to group by come from the service (a customer's record may override the metric's
period, which SQL cannot know); they are written to a temporary table and joined on
``(customer_ref, ts_us)`` (on PostgreSQL as each customer's bounds array, an event's period
being its bucket in it), so each event is read once by the database and only one row per
counter crosses into Python (ADR 0870, 0892). Sums stay exact: PostgreSQL adds ``numeric``; SQLite
keeps decimals as text, so it hands each counter's quantities over as one string and Python
adds them as ``Decimal`` in C (the wide context), never as floating point.

The latest value is the one with the greatest ``(ts_us, idempotency_key)``, compared by code
point as Python does: the database takes the maximum of a fixed-width timestamp followed by
the key (byte order, ``COLLATE "C"`` on PostgreSQL). SQLite hands over the quantity of that
same row; PostgreSQL's winners are read back by key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Integer, String, Text, and_, cast, column, func, table
from sqlalchemy.engine import Connection

from stripemeter_server.domain.decimals import ARITHMETIC
from stripemeter_server.service.ports.events import PeriodBounds, PeriodTotals
from stripemeter_server.storage.schema import events

# Shifts every microsecond timestamp that ``datetime`` can hold (years 1 to 9999, well inside
# -29 000 to 250 000) to exactly 19 digits, so its decimal text sorts as the number does
# and SQLite needs no ``printf`` per event to pad it.
_TS_SHIFT = 2 * 10**18
_PERIODS = table("rebuild_periods", column("customer_ref"), column("start_us"), column("end_us"))
_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS rebuild_periods "
    "(customer_ref TEXT NOT NULL, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL)"
)
_BOUNDS = table("rebuild_bounds", column("customer_ref"), column("bounds"))
_CREATE_BOUNDS = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS rebuild_bounds "
    "(customer_ref TEXT NOT NULL, bounds BIGINT[] NOT NULL)"
)
_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_rebuild_periods "
    "ON rebuild_periods (customer_ref, start_us, end_us)"
)


def raw_rows(conn: Connection, query: Any, periods_first: bool = False) -> list[Any]:
    """Run a Core query through the driver's own cursor: plain tuples, no result processing
    (the rebuild reads every event of a metric; ADR 0830). ``periods_first``: SQLite walks
    the period table in index order and seeks each period's events (``CROSS JOIN`` is its
    way to fix the join order), so the groups arrive sorted and no temporary B-tree sorts
    every event (a third of the query's time)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = conn.connection.cursor()
    try:
        sql = str(compiled)
        if periods_first:
            sql = sql.replace(
                "FROM rebuild_periods JOIN events ON",
                "FROM rebuild_periods CROSS JOIN events ON",
                1,
            )
        cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


class Periods:
    """The periods a rebuild groups by, as the store's query sees them. On PostgreSQL each
    customer's period bounds form one sorted array, and an event's period is its bucket in
    that array (``width_bucket``): the ledger is then joined on the customer alone (one
    match per event, a hash join) and grouped in a hash table, instead of every event being
    compared with each of its customer's periods and the rows sorted (ADR 0892)."""

    def __init__(self, periods: Sequence[PeriodBounds]) -> None:
        self.known = set(periods)
        bounds: dict[str, set[int]] = {}
        for customer, start_us, end_us in periods:
            bounds.setdefault(customer, set()).update((start_us, end_us))
        self.bounds = {customer: sorted(edges) for customer, edges in bounds.items()}

    def period(self, customer: str, bucket: int) -> tuple[int, int] | None:
        """Bucket ``i`` is ``[bounds[i-1], bounds[i])``; None outside the customer's periods
        (below the first bound, past the last, or a gap between two periods)."""
        edges = self.bounds[customer]
        if not 1 <= bucket < len(edges):
            return None
        found = (edges[bucket - 1], edges[bucket])
        return found if (customer, *found) in self.known else None


def load_periods(conn: Connection, periods: Sequence[PeriodBounds]) -> Periods | None:
    """The periods to group by, in this connection's own temporary table (on PostgreSQL
    as one bounds array per customer, returned for turning buckets back into periods)."""
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            grouped = Periods(periods)
            cursor.execute(_CREATE_BOUNDS)
            cursor.execute("TRUNCATE rebuild_bounds")
            with cursor.copy("COPY rebuild_bounds (customer_ref, bounds) FROM STDIN") as copy:
                for customer, edges in grouped.bounds.items():
                    copy.write_row((customer, edges))
            cursor.execute("ANALYZE rebuild_bounds")
            return grouped
        cursor.execute(_CREATE)
        cursor.execute(_INDEX)
        cursor.execute("DELETE FROM rebuild_periods")
        cursor.executemany("INSERT INTO rebuild_periods VALUES (?, ?, ?)", list(periods))
        return None
    finally:
        cursor.close()


def totals_query(counting: Any, sqlite: bool) -> Any:
    """``counting`` (the ledger's counting filter) grouped per counter. Only one ``max``
    and no ``min``: the newest ``(ts_us, key)`` also gives the watermark (its timestamp),
    and SQLite then takes the bare ``quantity`` column from that same row (its documented
    rule for a query with a single ``max``), so the latest value needs no second read."""
    e = events.c
    shifted = e.ts_us + _TS_SHIFT
    if sqlite:
        p = _PERIODS.c
        on = and_(p.customer_ref == e.customer_ref, e.ts_us >= p.start_us, e.ts_us < p.end_us)
        return (
            counting.with_only_columns(
                p.customer_ref,
                p.start_us,
                p.end_us,
                func.count(),
                func.sum(cast(e.late, Integer)),
                func.max(cast(shifted, Text).concat(e.idempotency_key), type_=String),
                func.group_concat(e.quantity, ","),
                e.quantity,
            )
            .select_from(_PERIODS.join(events, on))
            .group_by(p.customer_ref, p.start_us, p.end_us)
        )
    b = _BOUNDS.c
    bucket = func.width_bucket(e.ts_us, b.bounds)
    newest = func.lpad(cast(shifted, Text), 19, "0").concat(e.idempotency_key).collate("C")
    return (
        counting.with_only_columns(
            e.customer_ref,
            bucket,
            func.count(),
            func.sum(cast(e.late, Integer)),
            func.max(newest, type_=String),
            func.sum(e.quantity),
            func.max(e.quantity),
            func.min(e.quantity),
        )
        .select_from(events.join(_BOUNDS, b.customer_ref == e.customer_ref))
        .group_by(e.customer_ref, bucket)
    )


# The grouped query's plan on PostgreSQL, for its one statement: memory enough to hash the
# groups rather than sort a million rows; the customers hashed, not looked up per event;
# the metric's events read in physical order (a bitmap or a sequential scan), not fetched
# one by one in index order; no JIT compilation (its fixed cost buys nothing here). A fresh
# ledger partition has no statistics yet, and its estimate of a few rows would otherwise
# pick a nested loop or an index scan and sort (ADR 0892).
_PLANNER = {
    "work_mem": "128MB",
    "enable_nestloop": "off",
    "enable_mergejoin": "off",
    "enable_sort": "off",
    "enable_indexscan": "off",
    "jit": "off",
}


# At most this much of the SQLite file is mapped during the grouped query (address space,
# not memory: the pages are the operating system's file cache, shared and reclaimable).
_MMAP_BYTES = 1 << 30


def grouped_rows(conn: Connection, query: Any) -> list[Any]:
    """The grouped query's rows (SQLite walking the period table first, see ``raw_rows``)."""
    with planner_settings(conn):
        return raw_rows(conn, query, periods_first=conn.dialect.name == "sqlite")


@contextmanager
def planner_settings(conn: Connection) -> Iterator[None]:
    """The grouped query's settings, for the statements inside only: on PostgreSQL
    ``_PLANNER`` (each transaction-local); on SQLite the database file memory-mapped
    (``_MMAP_BYTES``), since the query fetches every event's row by its rowid in the
    ledger index's order, and through ``read`` calls each fetch was a system call — the
    mapping took ~45 % of the query's CPU off. Both are set back right after."""
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute("PRAGMA mmap_size")
            mapped = cursor.fetchone()
            cursor.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            try:
                yield
            finally:  # the connection goes back to the pool: never leave it mapped
                cursor.execute(f"PRAGMA mmap_size = {int(mapped[0]) if mapped else 0}")
            return
        names = list(_PLANNER)
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = list(cursor.fetchone() or ())
        _set_local(cursor, list(_PLANNER.values()))
        yield
        _set_local(cursor, before)
    finally:
        cursor.close()


def _set_local(cursor: Any, values: list[str]) -> None:
    sets = ", ".join(["set_config(%s, %s, true)"] * len(values))
    pairs = zip(_PLANNER, values, strict=True)
    cursor.execute(f"SELECT {sets}", [x for pair in pairs for x in pair])


def totals(
    conn: Connection, tenant: str, rows: list[Any], periods: Periods | None
) -> Iterator[PeriodTotals]:
    """The aggregated rows as ``PeriodTotals`` (PostgreSQL's latest values read back by key,
    its buckets turned back into periods)."""
    sqlite = periods is None
    if periods is not None:
        rows = _as_periods(rows, periods)
    newest = [(int(row[5][:19]) - _TS_SHIFT, row[5][19:]) for row in rows]
    latest = {} if sqlite else _quantities(conn, tenant, [key for _, key in newest])
    for row, (ts_us, key) in zip(rows, newest, strict=True):
        if sqlite:
            with localcontext(ARITHMETIC):
                quantities = list(map(Decimal, row[6].split(",")))
                total = sum(quantities, Decimal(0))
            high, low = max(quantities), min(quantities)
            value = Decimal(row[7])
        else:
            total, high, low, value = row[6], row[7], row[8], latest[key]
        yield PeriodTotals(
            row[0], row[1], row[2], row[3], int(row[4]), ts_us,
            total, high, low, value, ts_us, key,
        )  # fmt: skip


def _as_periods(rows: list[Any], periods: Periods) -> list[Any]:
    """PostgreSQL's ``(customer, bucket, ...)`` rows as ``(customer, start, end, ...)``;
    events outside every period (none, since the periods cover each customer's span) are
    left out, as the join on the ranges would."""
    out = []
    for customer, bucket, *rest in rows:
        found = periods.period(customer, bucket)
        if found is not None:
            out.append((customer, *found, *rest))
    return out


def _quantities(conn: Connection, tenant: str, keys: list[str]) -> dict[str, Decimal]:
    """The winners' quantities on PostgreSQL, by key alone (keys are unique in a tenant's
    ledger; a metric condition would steer the planner to the metric's index), in one
    statement with the keys as one array parameter (no ``IN`` list to split). Each event is
    found through its key's row in ``event_keys``, which names it (ADR 0981), by two probes
    per key (``LATERAL … LIMIT 1``): joined, a thousand keys read all of ``event_keys``."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(
            "SELECT e.idempotency_key, e.quantity FROM unnest(%s::text[]) AS k(key) "
            "CROSS JOIN LATERAL (SELECT r.seq, r.received_us FROM event_keys r "
            "WHERE r.tenant_id = %s AND r.idempotency_key = k.key LIMIT 1) n "
            "CROSS JOIN LATERAL (SELECT x.idempotency_key, x.quantity FROM events x "
            "WHERE x.tenant_id = %s AND x.seq = n.seq AND x.received_us = n.received_us "
            "LIMIT 1) e",
            (keys, tenant, tenant),
        )
        return dict(cursor.fetchall())
    finally:
        cursor.close()
