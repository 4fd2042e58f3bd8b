"""Counters (live totals) and the exact distinct-value sets behind ``unique_count``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection, Row

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter
from stripemeter_server.storage import pg_bulk
from stripemeter_server.storage.dialects import chunks, for_update, insert_for, is_postgres
from stripemeter_server.storage.schema import counter_uniques, counters

_STATE_COLUMNS = (
    "count",
    "sum",
    "max",
    "min",
    "latest_value",
    "latest_ts_us",
    "latest_key",
    "unique_count",
    "adjustments",
    "late_out",
    "watermark_us",
    "late_count",
)


def _state_of(row: Row[Any]) -> CounterState:
    mapping = row._mapping
    return CounterState(**{name: mapping[name] for name in _STATE_COLUMNS})


def _stored(row: Row[Any]) -> StoredCounter:
    return StoredCounter(
        row.metric, row.customer_ref, row.period_start_us, row.period_end_us, _state_of(row)
    )


_UPDATE_COLUMNS = (*_STATE_COLUMNS, "updated_us")


def _lock_order(key: CounterKey) -> tuple[str, str, int]:
    metric, customer_ref, period_start_us = key
    return (customer_ref, metric, period_start_us)


def _update_sql(conn: Connection) -> str:
    mark = "%s" if is_postgres(conn) else "?"
    assignments = ", ".join(f'"{name}" = {mark}' for name in _UPDATE_COLUMNS)
    return (
        f"UPDATE counters SET {assignments} WHERE tenant_id = {mark} AND metric = {mark} "
        f"AND customer_ref = {mark} AND period_start_us = {mark}"
    )


def _decimal_param(conn: Connection) -> Callable[[Decimal | None], Any]:
    """Decimals as the driver wants them: NUMERIC on PostgreSQL, exact text on SQLite."""
    if is_postgres(conn):
        return lambda value: value
    return lambda value: None if value is None else format(value, "f")


def _state_values(state: CounterState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in _STATE_COLUMNS}


class CountersRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        """Lock and load the counters, creating the missing ones.

        Deadlock freedom on PostgreSQL: every transaction first inserts all its counters
        (``ON CONFLICT DO NOTHING``, which waits for a racing insert instead of locking
        existing rows), then locks the rest; each phase goes in one global key order. SQLite
        has a single writer, so there the cheaper select-first order is used.
        """
        if not periods:
            return {}
        keys = sorted(periods, key=_lock_order)
        if is_postgres(self._conn):
            found = self._create(keys, periods, now_us)
            found.update(self._select_locked([k for k in keys if k not in found]))
            return found
        found = self._select_locked(keys)
        missing = [k for k in keys if k not in found]
        if missing:
            found.update(self._create(missing, periods, now_us))
            found.update(self._select_locked([k for k in missing if k not in found]))
        return found

    def _create(
        self, keys: Sequence[CounterKey], periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        """Insert zero counters; returns those this transaction created (new and locked)."""
        if not keys:
            return {}
        if is_postgres(self._conn):
            created = pg_bulk.insert_zero_counters(
                self._conn, self._tenant, keys, [periods[k] for k in keys], now_us
            )
            return {key: StoredCounter(*key, periods[key], CounterState()) for key in created}
        zero = _state_values(CounterState())
        rows = [
            {
                "tenant_id": self._tenant,
                "metric": m,
                "customer_ref": c,
                "period_start_us": p,
                "period_end_us": periods[(m, c, p)],
                "updated_us": now_us,
                **zero,
            }
            for (m, c, p) in keys
        ]
        insert = (
            insert_for(self._conn, counters)
            .on_conflict_do_nothing()
            .returning(counters.c.metric, counters.c.customer_ref, counters.c.period_start_us)
        )
        created = {(r[0], r[1], r[2]) for r in self._conn.execute(insert, rows)}
        return {key: StoredCounter(*key, periods[key], CounterState()) for key in created}

    def _select_locked(self, keys: Sequence[CounterKey]) -> dict[CounterKey, StoredCounter]:
        """Select by customer (a plain IN list, cheap to bind) and keep the wanted keys."""
        wanted = set(keys)
        metrics = sorted({m for m, _, _ in keys})
        customers = sorted({c for _, c, _ in keys})
        found: dict[CounterKey, StoredCounter] = {}
        if not keys:
            return found
        for part in chunks(customers):  # chunks follow the lock order (customer first)
            query = (
                select(counters)
                .where(counters.c.tenant_id == self._tenant)
                .where(counters.c.metric.in_(metrics))
                .where(counters.c.customer_ref.in_(list(part)))
                .where(counters.c.period_start_us.in_(sorted({p for _, _, p in keys})))
                .order_by(counters.c.customer_ref, counters.c.metric, counters.c.period_start_us)
            )
            for row in self._conn.execute(for_update(self._conn, query)):
                stored = _stored(row)
                if stored.key in wanted:
                    found[stored.key] = stored
        return found

    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None:
        """Write counter states back: one driver-level executemany (the ingest hot path)."""
        to_db = _decimal_param(self._conn)
        rows = [
            (
                c.state.count, to_db(c.state.sum), to_db(c.state.max), to_db(c.state.min),
                to_db(c.state.latest_value), c.state.latest_ts_us, c.state.latest_key,
                c.state.unique_count, to_db(c.state.adjustments), to_db(c.state.late_out),
                c.state.watermark_us, c.state.late_count, now_us,
                self._tenant, c.metric, c.customer_ref, c.period_start_us,
            )
            for c in changed
        ]
        if rows:
            self._conn.exec_driver_sql(_update_sql(self._conn), rows)

    def add_uniques(
        self, values: Sequence[tuple[str, str, int, str]]
    ) -> set[tuple[str, str, int, str]]:
        """Insert distinct values; returns those that were new (exact, concurrency-safe)."""
        if not values:
            return set()
        rows = [
            {
                "tenant_id": self._tenant,
                "metric": m,
                "customer_ref": c,
                "period_start_us": p,
                "value": v,
            }
            for (m, c, p, v) in sorted(set(values))
        ]
        insert = (
            insert_for(self._conn, counter_uniques)
            .on_conflict_do_nothing()
            .returning(
                counter_uniques.c.metric,
                counter_uniques.c.customer_ref,
                counter_uniques.c.period_start_us,
                counter_uniques.c.value,
            )
        )
        result = self._conn.execute(insert, rows)
        return {(r[0], r[1], r[2], r[3]) for r in result}

    def get(self, key: CounterKey) -> StoredCounter | None:
        metric, customer, start = key
        row = self._conn.execute(
            select(counters).where(
                and_(
                    counters.c.tenant_id == self._tenant,
                    counters.c.metric == metric,
                    counters.c.customer_ref == customer,
                    counters.c.period_start_us == start,
                )
            )
        ).first()
        return _stored(row) if row else None

    def find(
        self,
        *,
        customer_ref: str | None = None,
        metric: str | None = None,
        start_from_us: int | None = None,
        start_before_us: int | None = None,
    ) -> list[StoredCounter]:
        query = select(counters).where(counters.c.tenant_id == self._tenant)
        if customer_ref is not None:
            query = query.where(counters.c.customer_ref == customer_ref)
        if metric is not None:
            query = query.where(counters.c.metric == metric)
        if start_from_us is not None:
            query = query.where(counters.c.period_end_us > start_from_us)
        if start_before_us is not None:
            query = query.where(counters.c.period_start_us < start_before_us)
        query = query.order_by(
            counters.c.metric, counters.c.customer_ref, counters.c.period_start_us
        )
        return [_stored(row) for row in self._conn.execute(query)]

    def delete(self, *, metric: str, customer_ref: str | None = None) -> None:
        for table in (counters, counter_uniques):
            statement = delete(table).where(
                table.c.tenant_id == self._tenant, table.c.metric == metric
            )
            if customer_ref is not None:
                statement = statement.where(table.c.customer_ref == customer_ref)
            self._conn.execute(statement)

    def insert_many(self, rebuilt: Iterable[StoredCounter], now_us: int) -> None:
        rows = [
            {
                "tenant_id": self._tenant,
                "metric": c.metric,
                "customer_ref": c.customer_ref,
                "period_start_us": c.period_start_us,
                "period_end_us": c.period_end_us,
                "updated_us": now_us,
                **_state_values(c.state),
            }
            for c in rebuilt
        ]
        if rows:
            self._conn.execute(counters.insert(), rows)

    def insert_uniques(self, values: Iterable[tuple[str, str, int, str]]) -> None:
        rows = [
            {
                "tenant_id": self._tenant,
                "metric": m,
                "customer_ref": c,
                "period_start_us": p,
                "value": v,
            }
            for (m, c, p, v) in values
        ]
        if rows:
            self._conn.execute(counter_uniques.insert(), rows)


__all__ = ["ZERO", "CounterKey", "CountersRepository", "StoredCounter"]
