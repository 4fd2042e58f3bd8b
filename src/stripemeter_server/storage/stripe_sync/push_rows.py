"""The outbox's and push state's statements and row decoders, built once at import: the
pusher binds every row of a batch to the same compiled text, and decodes rows by position
(ADR 0820, 0895)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, update

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.domain.stripe_mapping import SyncMode, Transport
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.stripe_sync.ports.pushes import (
    PENDING,
    SENT,
    ChangedCounter,
    PushRow,
    PushState,
    PushStatus,
)
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, push_outbox, push_state

ROW_FIELDS: tuple[str, ...] = PushRow._fields


def _fields(names: tuple[str, ...], types: dict[str, str]) -> list[str]:
    """``e``'s items by position, cast to their columns' types (text as it comes)."""
    return [
        f"(e->>{at})" + (f"::{types[name]}" if name in types else "")
        for at, name in enumerate(names)
    ]


# Built once: executemany binds every row's values to the one compiled statement.
STATE_VALUES: dict[str, Any] = {
    "period_end_us": bindparam("end"),
    "target": bindparam("tgt"),
    "pushed_units": bindparam("units", type_=push_state.c.pushed_units.type),
    "next_seq": bindparam("seq"),
    "last_ts_s": bindparam("ts"),
    "updated_us": bindparam("now"),
    "counter_updated_us": bindparam("cu"),
}
ADVANCE_STATE = (
    update(push_state)
    .where(
        push_state.c.tenant_id == bindparam("t"),
        push_state.c.metric == bindparam("m"),
        push_state.c.customer_ref == bindparam("c"),
        push_state.c.period_start_us == bindparam("s"),
        push_state.c.next_seq == bindparam("was"),
    )
    .values(**STATE_VALUES)
    .returning(push_state.c.next_seq)
)
INSERT_STATES = (
    "INSERT INTO push_state (tenant_id, metric, customer_ref, period_start_us, "
    "period_end_us, target, pushed_units, next_seq, last_ts_s, updated_us, "
    "counter_updated_us) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT DO NOTHING"
)
MOVE_STATES = (
    "UPDATE push_state SET period_end_us = {p}, target = {p}, pushed_units = {p}, "
    "next_seq = {p}, last_ts_s = {p}, updated_us = {p}, counter_updated_us = {p} "
    "WHERE tenant_id = {p} "
    "AND metric = {p} AND customer_ref = {p} AND period_start_us = {p} "
    "AND next_seq = {p}"
)
# PostgreSQL: a plan's new and moved push states, one statement each, the states one JSON
# array of arrays (ADR 0965; items in ``STATE_KEYS`` order, then the sequence read).
STATE_KEYS = (
    "metric", "customer_ref", "period_start_us", "period_end_us", "target", "pushed_units",
    "next_seq", "last_ts_s", "updated_us", "counter_updated_us",
)  # fmt: skip
_STATE_TYPES = {
    "period_start_us": "bigint",
    "period_end_us": "bigint",
    "pushed_units": "numeric",
    "next_seq": "integer",
    "last_ts_s": "bigint",
    "updated_us": "bigint",
    "counter_updated_us": "bigint",
    "was": "integer",
}
_STATE_NAMES = (*STATE_KEYS, "was")
_STATE_ITEMS = dict(zip(_STATE_NAMES, _fields(_STATE_NAMES, _STATE_TYPES), strict=True))
INSERT_STATES_POSTGRES = (
    "INSERT INTO push_state (tenant_id, "
    + ", ".join(STATE_KEYS)
    + ") SELECT %s, "
    + ", ".join(_STATE_ITEMS[k] for k in STATE_KEYS)
    + " FROM jsonb_array_elements(%s::jsonb) AS e ON CONFLICT DO NOTHING"
)
MOVE_STATES_POSTGRES = (
    "UPDATE push_state SET "
    + ", ".join(f"{k} = {_STATE_ITEMS[k]}" for k in STATE_KEYS[3:])
    + " FROM jsonb_array_elements(%s::jsonb) AS e WHERE push_state.tenant_id = %s AND "
    + " AND ".join(f"push_state.{k} = {_STATE_ITEMS[k]}" for k in STATE_KEYS[:3])
    + " AND push_state.next_seq = "
    + _STATE_ITEMS["was"]
)
# SQLite: a batch's marks in one statement, its ``[push id, customer]`` pairs one JSON
# array (an executemany stepped the statement once per row, ADR 0946). The pairs are
# materialized first so that they drive the join through the primary key: joined to the
# table function directly, SQLite scanned the pairs once per pending row of the tenant.
MARK_SENT_SQLITE = (
    "WITH v(push_id, customer) AS MATERIALIZED (SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]') FROM json_each(?)) "
    "UPDATE push_outbox SET status = '" + SENT + "', sent_us = ?, lease_until_us = NULL, "
    "updated_us = ?, stripe_customer_id = COALESCE(v.customer, push_outbox.stripe_customer_id) "
    "FROM v WHERE push_outbox.tenant_id = ? AND push_outbox.push_id = v.push_id "
    "AND push_outbox.status = '" + PENDING + "'"
)
# A claim's lease, one statement for all its rows whatever their number (ids: one JSON
# array on both stores; ADR 0946). PostgreSQL joins the ids to the table (a nested loop of
# primary-key probes whatever the statistics say) instead of ``= ANY(text[])``: psycopg
# dumps an array element by element in Python, and an ``ANY`` over a computed array is a
# linear filter per row when the planner takes the outbox for small (ADR 0973).
_LEASE_SQL = (
    "UPDATE push_outbox SET next_attempt_us = {p}, lease_until_us = {p}, "
    "attempts = attempts + 1, updated_us = {p} WHERE tenant_id = {p} AND push_id {ids}"
)
LEASE_SQLITE = _LEASE_SQL.format(p="?", ids="IN (SELECT value FROM json_each(?))")
_IDS_POSTGRES = "jsonb_array_elements_text(%s::jsonb) AS k(id)"
LEASE_POSTGRES = (
    "UPDATE push_outbox SET next_attempt_us = %s, lease_until_us = %s, "
    "attempts = attempts + 1, updated_us = %s FROM " + _IDS_POSTGRES + " "
    "WHERE push_outbox.tenant_id = %s AND push_outbox.push_id = k.id"
)
# The lease of rows the worker planned itself and holds (ADR 0965): only rows no claim has
# touched (``attempts = 0``: what the plan wrote, unchanged), still pending and due; the
# ids leased come back. PostgreSQL passes over rows another worker's claim holds: it locks
# them in push-id order, then updates the versions it locked by ``ctid`` (the key compared
# too): ``push_id = ANY(ARRAY(…))`` filtered every pending row of the tenant by a linear
# search of the array when the planner took the outbox for small, ~60-250 ms per 1 000
# rows (ADR 0973).
_NEVER_CLAIMED = "status = '" + PENDING + "' AND attempts = 0 AND next_attempt_us <= {p}"
LEASE_PLANNED_SQLITE = (
    _LEASE_SQL.format(p="?", ids="IN (SELECT value FROM json_each(?))")
    + " AND "
    + _NEVER_CLAIMED.format(p="?")
    + " RETURNING push_id"
)
LEASE_PLANNED_POSTGRES = (
    "WITH held AS MATERIALIZED (SELECT o.ctid AS row, o.push_id AS id FROM "
    + _IDS_POSTGRES
    + " JOIN push_outbox o ON o.tenant_id = %s AND o.push_id = k.id WHERE o."
    + _NEVER_CLAIMED.format(p="%s").replace(" AND ", " AND o.")
    + " ORDER BY o.push_id FOR UPDATE OF o SKIP LOCKED) "
    "UPDATE push_outbox SET next_attempt_us = %s, lease_until_us = %s, "
    "attempts = attempts + 1, updated_us = %s FROM held "
    "WHERE push_outbox.ctid = held.row AND push_outbox.push_id = held.id "
    "RETURNING push_outbox.push_id"
)
# A metric's push states for a set of customers, one statement (the table's columns in
# order, as ``push_state_of`` reads them; ADR 0946).
_STATES_SQL = (
    "SELECT " + ", ".join(c.name for c in push_state.c) + " FROM push_state "
    "WHERE tenant_id = {p} AND metric = {p} AND customer_ref {ids}"
)
STATES_SQLITE = _STATES_SQL.format(p="?", ids="IN (SELECT value FROM json_each(?))")
STATES_POSTGRES = (
    "SELECT "
    + ", ".join(f"s.{c.name}" for c in push_state.c)
    + " FROM jsonb_array_elements_text(%s::jsonb) AS k(ref) JOIN push_state s "
    "ON s.tenant_id = %s AND s.metric = %s AND s.customer_ref = k.ref"
)
# PostgreSQL: a batch's sent marks in one statement, its ``[push id, customer]`` pairs one
# JSON array (as on SQLite): the rows locked in push-id order (as the lease beat locks
# them: no deadlock), then the versions locked updated by ``ctid``, the key compared too.
# A lock and an update over ``text[]`` per 500 rows before: two round trips and the arrays
# dumped per element in Python (ADR 0973).
MARK_SENT_POSTGRES = (
    "WITH locked AS MATERIALIZED (SELECT o.ctid AS row, o.push_id AS id, v.e->>1 AS customer "
    "FROM jsonb_array_elements(%s::jsonb) AS v(e) JOIN push_outbox o "
    "ON o.tenant_id = %s AND o.push_id = v.e->>0 WHERE o.status = '" + PENDING + "' "
    "ORDER BY o.push_id FOR UPDATE OF o) "
    "UPDATE push_outbox SET status = '" + SENT + "', sent_us = %s, lease_until_us = NULL, "
    "updated_us = %s, "
    "stripe_customer_id = COALESCE(locked.customer, push_outbox.stripe_customer_id) "
    "FROM locked WHERE push_outbox.ctid = locked.row AND push_outbox.push_id = locked.id "
    "AND push_outbox.status = '" + PENDING + "'"
)


ROW_COLUMNS = tuple(push_outbox.c[name] for name in ROW_FIELDS)  # in ``PushRow`` order
_MODES = {m.value: m for m in SyncMode}
_TRANSPORTS = {t.value: t for t in Transport}
_STATUSES = {s.value: s for s in PushStatus}
# Columns decoded on the way out: (position in ``ROW_FIELDS``, decoder).
_DECODE = tuple(
    (ROW_FIELDS.index(name), decode)
    for name, decode in (
        ("mode", _MODES.__getitem__),
        ("transport", _TRANSPORTS.__getitem__),
        ("value", int),
        ("pushed_after", int),
        ("status", _STATUSES.__getitem__),
    )
)


# The outbox insert, text built once (``{p}``: the driver's placeholder), in ``ROW_FIELDS``
# order; the positions whose values the insert converts.
INSERT_OUTBOX = (
    "INSERT INTO push_outbox ("
    + ", ".join(ROW_FIELDS)
    + ") VALUES ("
    + ", ".join(["{p}"] * len(ROW_FIELDS))
    + ")"
)
TENANT_POSITION = ROW_FIELDS.index("tenant_id")
assert TENANT_POSITION == 0  # bound once, as one value, ahead of the rows
# PostgreSQL: a plan's outbox rows in one statement, the tenant one value and the rows one
# JSON array of arrays (ADR 0965): an executemany ran the insert once per row on the
# server; arrays per column (``unnest``) and JSON objects cost more of the pusher's CPU
# than the executemany did (the driver dumps each array element in Python; the objects
# repeat every key), a JSON array of arrays a quarter of it (one C call).
_PG_TYPES = {
    "period_start_us": "bigint",
    "period_end_us": "bigint",
    "seq": "integer",
    "value": "numeric",
    "pushed_after": "numeric",
    "timestamp_s": "bigint",
    "attempts": "integer",
    "next_attempt_us": "bigint",
    "lease_until_us": "bigint",
    "created_us": "bigint",
    "sent_us": "bigint",
    "updated_us": "bigint",
}


INSERT_OUTBOX_POSTGRES = (
    "INSERT INTO push_outbox ("
    + ", ".join(ROW_FIELDS)
    + ") SELECT %s, "
    + ", ".join(_fields(ROW_FIELDS[1:], _PG_TYPES))
    + " FROM jsonb_array_elements(%s::jsonb) AS e"
)
ENUM_POSITIONS = tuple(ROW_FIELDS.index(name) for name in ("mode", "transport", "status"))
AMOUNT_POSITIONS = tuple(ROW_FIELDS.index(name) for name in ("value", "pushed_after"))


def push_row_of(raw: Any) -> PushRow:
    """A row selected as ``ROW_COLUMNS``, by position: a claim decodes a thousand at once,
    and a dict per row was most of its cost (ADR 0895)."""
    values: list[Any] = list(raw)
    for at, decode in _DECODE:
        values[at] = decode(values[at])
    return PushRow(*values)


# A scan's columns, read by position (``Row._mapping`` per counter was half of a v2 drain's
# CPU, ADR 0895): the key, the ``updated_us`` read, then the state in ``STATE_COLUMNS`` order.
CHANGED_COLUMNS = (
    counters.c.metric,
    counters.c.customer_ref,
    counters.c.period_start_us,
    counters.c.period_end_us,
    counters.c.updated_us,
    *(counters.c[name] for name in STATE_COLUMNS),
)
# What ``CounterState.value`` reads for each aggregation, besides the corrections: a plan
# scans and decodes only those (every column was ~25 % of a SQLite plan, ADR 0973).
_CORRECTIONS = ("adjustments", "late_out")
VALUE_COLUMNS: dict[Aggregation, tuple[str, ...]] = {
    agg: (*reads, *_CORRECTIONS)
    for agg, reads in (
        (Aggregation.COUNT, ("count",)),
        (Aggregation.SUM, ("sum",)),
        (Aggregation.MAX, ("max",)),
        (Aggregation.MIN, ("min",)),
        (Aggregation.LATEST, ("latest_value",)),
        (Aggregation.UNIQUE_COUNT, ("unique_count",)),
        (Aggregation.AVG, ("sum", "count")),
    )
}


_STATE_DEFAULTS: tuple[Any, ...] = tuple(f.default for f in fields(CounterState))
_VALUE_POSITIONS = {
    agg: tuple(STATE_COLUMNS.index(name) for name in names) for agg, names in VALUE_COLUMNS.items()
}


def changed_columns(aggregation: Aggregation | None) -> tuple[Any, ...]:
    """A scan's columns: every state column, or only what the aggregation's value reads."""
    if aggregation is None:
        return CHANGED_COLUMNS
    return (*CHANGED_COLUMNS[:5], *(counters.c[name] for name in VALUE_COLUMNS[aggregation]))


def changed_counter_of(raw: Any, aggregation: Aggregation | None = None) -> ChangedCounter:
    """A scanned row; with ``aggregation``, the state's other fields at their defaults."""
    metric, customer_ref, start_us, end_us, updated_us, *values = raw
    if aggregation is None:
        state = CounterState(*values)  # STATE_COLUMNS is CounterState's field order
    else:  # by position over the defaults (by keyword through a dict: ~1.7x the cost)
        args: list[Any] = list(_STATE_DEFAULTS)
        for at, value in zip(_VALUE_POSITIONS[aggregation], values, strict=True):
            args[at] = value
        state = CounterState(*args)
    return ChangedCounter(StoredCounter(metric, customer_ref, start_us, end_us, state), updated_us)


def push_state_of(raw: Any) -> PushState:
    """A ``push_state`` row selected whole, by position (the table's column order): a
    plan reads one per candidate counter, and ``Row._mapping`` was most of that."""
    _, metric, customer_ref, start_us, end_us, target, units, seq, ts_s, _, counter_us = raw
    return PushState(
        metric,
        customer_ref,
        start_us,
        end_us,
        target,
        None if units is None else int(units),
        seq,
        ts_s,
        counter_us,
    )


def units_of(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)
