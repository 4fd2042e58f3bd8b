"""A rebuild's fast path: the ledger aggregated per counter in SQL, not folded row by row.

The periods to group by come from the service (a customer's record may override the metric's
period, which SQL cannot know); they are written to a temporary table and joined on
``(customer_ref, ts_us)``, so each event is read once by the database and only one row per
counter crosses into Python (ADR 0870). Sums stay exact: PostgreSQL adds ``numeric``; SQLite
keeps decimals as text, so it hands each counter's quantities over as one string and Python
adds them as ``Decimal`` in C (the wide context), never as floating point.

The latest value is the one with the greatest ``(ts_us, idempotency_key)``, compared by code
point as Python does: the database takes the maximum of a fixed-width timestamp followed by
the key (byte order, ``COLLATE "C"`` on PostgreSQL), and the winners' quantities are read
back by key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Integer, String, Text, and_, cast, column, func, select, table
from sqlalchemy.engine import Connection

from stripemeter_server.domain.decimals import ARITHMETIC
from stripemeter_server.service.ports.events import PeriodBounds, PeriodTotals
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.schema import events

# Shifts every microsecond timestamp (from year -29 700 to 260 000) to 19 positive digits.
_TS_SHIFT = 10**18
_PERIODS = table("rebuild_periods", column("customer_ref"), column("start_us"), column("end_us"))
_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS rebuild_periods "
    "(customer_ref TEXT NOT NULL, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL)"
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


def load_periods(conn: Connection, periods: Sequence[PeriodBounds]) -> None:
    """The periods to group by, in this connection's own temporary table."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_CREATE)
        if conn.dialect.name == "sqlite":
            cursor.execute(_INDEX)
        cursor.execute("DELETE FROM rebuild_periods")
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cursor.executemany(
            f"INSERT INTO rebuild_periods VALUES ({mark}, {mark}, {mark})", list(periods)
        )
        if conn.dialect.name == "postgresql":
            cursor.execute("ANALYZE rebuild_periods")
    finally:
        cursor.close()


def totals_query(counting: Any, sqlite: bool) -> Any:
    """``counting`` (the ledger's counting filter) grouped by the temporary periods."""
    e, p = events.c, _PERIODS.c
    shifted = e.ts_us + _TS_SHIFT
    if sqlite:
        newest: Any = func.printf("%019d", shifted).concat(e.idempotency_key)
        values: tuple[Any, ...] = (func.group_concat(e.quantity, ","),)
    else:
        newest = func.lpad(cast(shifted, Text), 19, "0").concat(e.idempotency_key).collate("C")
        values = (func.sum(e.quantity), func.max(e.quantity), func.min(e.quantity))
    on = and_(p.customer_ref == e.customer_ref, e.ts_us >= p.start_us, e.ts_us < p.end_us)
    return (
        counting.with_only_columns(
            p.customer_ref,
            p.start_us,
            p.end_us,
            func.count(),
            func.sum(cast(e.late, Integer)),
            func.max(e.ts_us),
            func.max(newest, type_=String),
            *values,
        )
        .select_from(_PERIODS.join(events, on))
        .group_by(p.customer_ref, p.start_us, p.end_us)
    )


def totals(conn: Connection, tenant: str, rows: list[Any]) -> Iterator[PeriodTotals]:
    """The aggregated rows as ``PeriodTotals``, the latest values read back by key."""
    sqlite = conn.dialect.name == "sqlite"
    newest = [(int(row[6][:19]) - _TS_SHIFT, row[6][19:]) for row in rows]
    latest = _quantities(conn, tenant, [key for _, key in newest])
    for row, (ts_us, key) in zip(rows, newest, strict=True):
        if sqlite:
            with localcontext(ARITHMETIC):
                quantities = list(map(Decimal, row[7].split(",")))
                total = sum(quantities, Decimal(0))
            high, low = max(quantities), min(quantities)
        else:
            total, high, low = row[7], row[8], row[9]
        yield PeriodTotals(
            row[0], row[1], row[2], row[3], int(row[4]), row[5],
            total, high, low, latest[key], ts_us, key,
        )  # fmt: skip


def _quantities(conn: Connection, tenant: str, keys: list[str]) -> dict[str, Decimal]:
    e = events.c
    found: dict[str, Decimal] = {}
    for part in chunks(keys):
        # by key alone: keys are unique in a tenant's ledger, and a metric condition
        # would steer the planner to the metric's index (a scan per part)
        query = select(e.idempotency_key, e.quantity).where(
            e.tenant_id == tenant, e.idempotency_key.in_(list(part))
        )
        for key, quantity in raw_rows(conn, query):
            found[key] = quantity if type(quantity) is Decimal else Decimal(quantity)
    return found
