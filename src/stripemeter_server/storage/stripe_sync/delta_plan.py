"""A metric's push plan computed in the store, set-based (ADR 0985).

The planner's Python plan reads the changed counters, their push states and the unsent
rows, computes each counter's delta, then writes the state moves and the outbox rows: four
statements and ~40 µs of Python per row. Here the same plan is one selection of the deltas
(the counters minus the pushed states: ``next_push`` of a ``sum`` formula, the timestamp's
clamping, the too-old parking, the SHA-256 identifier), and the same writes from it: on
PostgreSQL one statement of data-modifying CTEs (one snapshot), on SQLite a temporary table
and three statements (one writer: nothing moves between them), the exact arithmetic and
the identifier by functions registered per connection (``storage/sqlite/push_functions``).

Exactly-once is the Python plan's: the states move by the same compare (``next_seq`` as
read, or no state yet), in the caller's one transaction with the outbox rows, before any
call; a move that matched nothing (another planner first) makes the answer None and the
caller rolls the whole transaction back. The rows come back as stored (``RETURNING``), for
the worker's held rows (ADR 0965).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy.engine import Connection

from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.domain.push_plan import PUSH_AGE_MARGIN_SECONDS, STRIPE_MAX_AGE_SECONDS
from stripemeter_server.domain.timestamps import MICROS
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    TOO_OLD,
    TOO_OLD_ERROR,
    DeltaPlan,
    PushRow,
)
from stripemeter_server.storage.stripe_sync.push_rows import ROW_FIELDS, push_row_of

_BASE = {
    Aggregation.COUNT: "count",
    Aggregation.SUM: "sum",
    Aggregation.UNIQUE_COUNT: "unique_count",
}


def _floor_s(column: str) -> str:
    """Microseconds to whole seconds, floored as Python's ``//`` (SQL's ``/`` truncates)."""
    rest = f"{column} % {MICROS}"
    return f"(({column} - {rest}) / {MICROS} - CASE WHEN {rest} < 0 THEN 1 ELSE 0 END)"


def _unblocked(row: str) -> str:
    """No unsent push of the counter to this meter (pending, or parked): one at a time."""
    return (
        "NOT EXISTS (SELECT 1 FROM push_outbox o WHERE o.tenant_id = :tenant "
        f"AND o.metric = :metric AND o.customer_ref = {row}.customer_ref "
        f"AND o.period_start_us = {row}.period_start_us "
        f"AND o.status IN ('{PENDING}', '{FAILED}') AND o.mode = 'meter_events' "
        "AND o.target = :event)"
    )


def _kept(row: str, pg: bool) -> str:
    """A candidate's columns besides its units: the key and end, the state's sequence read
    (``was``; NULL: no state yet), the units pushed to this target, the previous time, the
    time clamped into the period and the period's last second."""
    least, greatest = ("least", "greatest") if pg else ("min", "max")
    end_s = _floor_s(f"{row}.period_end_us")
    return (
        f"{row}.customer_ref AS customer, {row}.period_start_us AS start_us, "
        f"{row}.period_end_us AS end_us, s.next_seq AS was, "
        "CASE WHEN s.target = :target THEN s.pushed_units END AS pushed, "
        "CASE WHEN s.target = :target THEN s.last_ts_s END AS prev, "
        f"{least}({greatest}(:now_s, {_floor_s(row + '.period_start_us')}), {end_s} - 1) AS at_s, "
        f"{end_s} - 1 AS last_s"
    )


def _deltas(pg: bool, base: str, scan: str) -> str:
    """The plan's rows (``d``): one per counter that needs a push (``scan``: ``sweep``,
    ``since`` or ``settled``, as ``changed_counters`` reads), and in a sweep one per orphaned
    state (no counter left, a non-zero total pushed: pushed back to zero)."""
    if pg:
        units = f"round((c.{base} + c.adjustments - c.late_out) * CAST(:scale AS numeric))"
        delta, zero, least = "NULLIF(k.after - COALESCE(k.pushed, 0), 0)", "0", "least"
    else:
        units = f"stripemeter_push_units(c.{base}, c.adjustments, c.late_out, :scale)"
        delta, zero, least = "stripemeter_push_delta(k.after, k.pushed)", "'0'", "min"
    which = {
        "sweep": "c.period_end_us > :min_end ",
        "since": "c.updated_us >= :since ",
        "settled": "c.updated_us >= :since AND NOT COALESCE(s.counter_updated_us = "
        "c.updated_us OR s.updated_us >= c.updated_us + :settled, FALSE) ",
    }[scan]
    counted = (
        f"SELECT {_kept('c', pg)}, c.updated_us AS cu, {units} AS after "
        "FROM counters c LEFT JOIN push_state s ON s.tenant_id = c.tenant_id "
        "AND s.metric = c.metric AND s.customer_ref = c.customer_ref "
        "AND s.period_start_us = c.period_start_us "
        "WHERE c.tenant_id = :tenant AND c.metric = :metric AND "
        + which
        + "AND NOT (s.tenant_id IS NULL AND c.period_end_us <= :min_end) AND "
        + _unblocked("c")
    )
    orphaned = (
        f" UNION ALL SELECT {_kept('s', pg)}, NULL AS cu, {zero} AS after FROM push_state s "
        "WHERE s.tenant_id = :tenant AND s.metric = :metric AND s.period_end_us > :min_end "
        f"AND s.pushed_units IS NOT NULL AND s.pushed_units <> {zero} AND NOT EXISTS "
        "(SELECT 1 FROM counters c WHERE c.tenant_id = s.tenant_id AND c.metric = s.metric "
        "AND c.customer_ref = s.customer_ref AND c.period_start_us = s.period_start_us) AND "
        + _unblocked("s")
    )
    return (
        "WITH k AS MATERIALIZED ("
        + counted
        + (orphaned if scan == "sweep" else "")
        + "), d AS MATERIALIZED (SELECT * FROM (SELECT k.customer, k.start_us, k.end_us, "
        f"k.cu, k.was, k.after, {delta} AS value, "
        "CASE WHEN k.prev IS NULL OR k.prev < k.at_s THEN k.at_s "
        f"ELSE {least}(k.prev, k.last_s) END AS ts FROM k) AS x WHERE x.value IS NOT NULL) "
    )


def _identifier(pg: bool) -> str:
    """``push_identifier`` of a plan row (``d``): PostgreSQL's ``sha256`` over the same
    bytes (the tenant and metric part bound), SQLite's registered function."""
    if pg:
        material = (
            "CAST(:prefix AS text) || d.customer || chr(31) || CAST(d.start_us AS text) || chr(31) "
            "|| CAST(COALESCE(d.was, 0) AS text)"
        )
        return f"'smp_' || left(encode(sha256(convert_to({material}, 'UTF8')), 'hex'), 40)"
    return "stripemeter_push_id(:tenant, :metric, d.customer, d.start_us, COALESCE(d.was, 0))"


def _row_values(pg: bool) -> str:
    """The outbox row of a plan row (``d``), in ``ROW_FIELDS`` order."""
    status = f"CASE WHEN d.ts < :oldest_s THEN '{FAILED}' ELSE '{PENDING}' END"
    parked = "CASE WHEN d.ts < :oldest_s THEN {} END"
    return ", ".join(
        (
            ":tenant",
            _identifier(pg),
            ":metric",
            "d.customer",
            "d.start_us",
            "d.end_us",
            "COALESCE(d.was, 0)",
            "'meter_events'",
            ":transport",
            ":event",
            "NULL",
            "d.value",
            "d.after",
            "d.ts",
            status,
            "0",
            parked.format(":error"),
            parked.format(":code"),
            ":now",
            "NULL",
            ":now",
            "NULL",
            ":now",
        )
    )


_STATE_COLUMNS = (
    "tenant_id, metric, customer_ref, period_start_us, period_end_us, target, pushed_units, "
    "next_seq, last_ts_s, updated_us, counter_updated_us"
)
_FRESH = (
    f"INSERT INTO push_state ({_STATE_COLUMNS}) SELECT :tenant, :metric, d.customer, "
    "d.start_us, d.end_us, :target, d.after, 1, d.ts, :now, d.cu FROM {source} d "
    "WHERE d.was IS NULL ON CONFLICT DO NOTHING"
)
_MOVED = (
    "UPDATE push_state SET period_end_us = d.end_us, target = :target, pushed_units = d.after, "
    "next_seq = d.was + 1, last_ts_s = d.ts, updated_us = :now, counter_updated_us = d.cu "
    "FROM {source} d WHERE push_state.tenant_id = :tenant AND push_state.metric = :metric "
    "AND push_state.customer_ref = d.customer AND push_state.period_start_us = d.start_us "
    "AND push_state.next_seq = d.was"
)
# The outbox rows of the states that moved (``{source}``): on PostgreSQL the moves' own
# ``RETURNING``, so a plan that lost a race to another planner (its moves matched nothing)
# inserts none of those rows and is counted short, rolled back and planned again, as before
# (inserting them all ended the pass with a unique violation on the other planner's rows;
# a ``DO NOTHING`` on them cost the server a speculative insertion per row).
_OUTBOX = "INSERT INTO push_outbox (" + ", ".join(ROW_FIELDS) + ") SELECT {values} FROM {source}"
_RETURNING = " RETURNING " + ", ".join(ROW_FIELDS)


_MOVED_ROWS = (
    "d JOIN (SELECT * FROM fresh UNION ALL SELECT * FROM moved) AS m "
    "ON m.customer_ref = d.customer AND m.period_start_us = d.start_us"
)


@cache
def postgres_statement(aggregation: Aggregation, scan: str) -> str:
    """One statement: the plan, the state moves, the outbox rows; then how many rows were
    planned and how many states moved, with each row written (none: one row of NULLs)."""
    text = (
        _deltas(True, _BASE[aggregation], scan)
        + ", fresh AS ("
        + _FRESH.format(source="d")
        + " RETURNING customer_ref, period_start_us), moved AS ("
        + _MOVED.format(source="d")
        + " RETURNING push_state.customer_ref, push_state.period_start_us), written AS ("
        + _OUTBOX.format(values=_row_values(True), source=_MOVED_ROWS)
        + _RETURNING
        + ") SELECT (SELECT count(*) FROM d), "
        "(SELECT count(*) FROM fresh) + (SELECT count(*) FROM moved), written.* "
        "FROM (SELECT 1) AS one LEFT JOIN written ON TRUE"
    )
    return _pyformat(text)


# Keyed by the counter: the state moves join it to ``push_state`` by key (without a key,
# SQLite's ``UPDATE … FROM`` scanned the whole table once per state: ~33 µs a row at 1 000).
_SQLITE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS stripemeter_plan (customer TEXT, start_us INTEGER, "
    "end_us INTEGER, cu INTEGER, was INTEGER, after TEXT, value TEXT, ts INTEGER, "
    "PRIMARY KEY (customer, start_us))"
)


@cache
def sqlite_statements(aggregation: Aggregation, scan: str) -> tuple[str, ...]:
    """The plan into a temporary table, the new states, the moved states, the outbox rows."""
    fill = (
        "INSERT INTO temp.stripemeter_plan "
        + _deltas(False, _BASE[aggregation], scan)
        + "SELECT customer, start_us, end_us, cu, was, after, value, ts FROM d"
    )
    source = "temp.stripemeter_plan"
    return (
        fill,
        _FRESH.format(source=source),
        _MOVED.format(source=source),
        _OUTBOX.format(values=_row_values(False), source=source + " d") + _RETURNING,
    )


def _pyformat(text: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` (a ``%`` of the text doubled)."""
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", text.replace("%", "%%"))


def _params(plan: DeltaPlan, tenant: str) -> dict[str, Any]:
    mapping, code = plan.mapping, plan.metric.code
    now_s = plan.now_us // MICROS
    return {
        "tenant": tenant,
        "metric": code,
        "prefix": f"{tenant}\x1f{code}\x1f",
        "scale": str(mapping.scale),
        "target": plan.target,
        "event": mapping.event_name,
        "transport": mapping.transport.value,
        "now": plan.now_us,
        "now_s": now_s,
        "oldest_s": now_s - STRIPE_MAX_AGE_SECONDS + PUSH_AGE_MARGIN_SECONDS,
        "since": plan.since_us,
        "settled": plan.settled_us,
        "min_end": plan.min_end_us,
        "error": TOO_OLD_ERROR,
        "code": TOO_OLD,
    }


def plan_deltas(conn: Connection, tenant: str, plan: DeltaPlan) -> list[PushRow] | None:
    """Write the plan (see the module's docstring); None when a state move matched nothing."""
    assert plan.tenant_id == tenant
    agg = plan.metric.aggregation
    scan = "settled" if plan.settled_us is not None else "since"
    scan = "sweep" if plan.since_us is None else scan
    params = _params(plan, tenant)
    if conn.dialect.name != "sqlite":
        raws = conn.exec_driver_sql(postgres_statement(agg, scan), params).fetchall()
        planned, moved = raws[0][0], raws[0][1]
        rows = [push_row_of(raw[2:]) for raw in raws if raw[2] is not None]
        return rows if planned == moved == len(rows) else None
    fill, fresh, moved_sql, outbox = sqlite_statements(agg, scan)
    conn.exec_driver_sql(_SQLITE_TABLE)
    conn.exec_driver_sql("DELETE FROM temp.stripemeter_plan")
    planned = conn.exec_driver_sql(fill, params).rowcount
    if not planned:
        return []
    moves = conn.exec_driver_sql(fresh, params).rowcount
    moves += conn.exec_driver_sql(moved_sql, params).rowcount
    if moves != planned:
        return None
    rows = [push_row_of(raw) for raw in conn.exec_driver_sql(outbox, params).fetchall()]
    return rows if len(rows) == planned else None
