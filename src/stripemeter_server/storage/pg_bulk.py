"""PostgreSQL bulk inserts through ``unnest`` arrays.

A multi-row ``VALUES`` list binds one parameter per cell, and PostgreSQL parses and plans
that statement anew for every batch (thousands of parameters). Binding one array per column
keeps the statement small and its plan cheap; rows keep the (sorted) order of the arrays, so
the lock order that prevents deadlocks is preserved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

_EVENT_COLUMNS = (
    ("idempotency_key", "text"),
    ("metric", "text"),
    ("customer_ref", "text"),
    ("quantity", "numeric"),
    ("ts_us", "bigint"),
    ("received_us", "bigint"),
    ("resource_id", "text"),
    ("meta", "text"),
    ("fingerprint", "text"),
    ("late", "boolean"),
    ("late_after_close", "boolean"),
    ("voided_us", "bigint"),
    ("request_id", "text"),
    ("backfill_id", "text"),
)

_COUNTER_ZERO = (
    '0 AS "count", 0 AS "sum", NULL::numeric AS "max", NULL::numeric AS "min", '
    "NULL::numeric AS latest_value, NULL::bigint AS latest_ts_us, NULL::text AS latest_key, "
    "0 AS unique_count, 0 AS adjustments, 0 AS late_out, NULL::bigint AS watermark_us, "
    "0 AS late_count"
)


def insert_events(conn: Connection, tenant_id: str, rows: Sequence[dict[str, Any]]) -> set[str]:
    names = ", ".join(name for name, _ in _EVENT_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _EVENT_COLUMNS)
    sql = (
        f"INSERT INTO events (tenant_id, {names}) SELECT %s, t.* FROM unnest({arrays}) "
        f"AS t({names}) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING "
        "RETURNING idempotency_key"
    )
    params = (tenant_id, *([row[name] for row in rows] for name, _ in _EVENT_COLUMNS))
    return {r[0] for r in conn.exec_driver_sql(sql, params)}


def insert_zero_counters(
    conn: Connection,
    tenant_id: str,
    keys: Sequence[tuple[str, str, int]],
    ends: Sequence[int],
    now_us: int,
) -> set[tuple[str, str, int]]:
    sql = (
        "INSERT INTO counters (tenant_id, metric, customer_ref, period_start_us, period_end_us, "
        '"count", "sum", "max", "min", latest_value, latest_ts_us, latest_key, unique_count, '
        "adjustments, late_out, watermark_us, late_count, updated_us) "
        "SELECT %s, t.metric, t.customer_ref, t.period_start_us, t.period_end_us, "
        f"{_COUNTER_ZERO}, %s FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[]) "
        "AS t(metric, customer_ref, period_start_us, period_end_us) "
        "ON CONFLICT DO NOTHING RETURNING metric, customer_ref, period_start_us"
    )
    params = (
        tenant_id,
        now_us,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        list(ends),
    )
    return {(r[0], r[1], r[2]) for r in conn.exec_driver_sql(sql, params)}
