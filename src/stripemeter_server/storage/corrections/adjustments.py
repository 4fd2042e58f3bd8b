"""Adjustments (append-only signed deltas) and period closes (table ``period_locks``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord, PeriodClose
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.schema import adjustments, period_locks
from stripemeter_server.storage.sql_dialect import SqlDialect

_JSON = msgspec.json.Encoder()


class AdjustmentsRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def add_many(self, records: Iterable[AdjustmentRecord]) -> None:
        rows = [{"tenant_id": self._tenant, **_as_row(r)} for r in records]
        if rows:
            self._conn.execute(adjustments.insert(), rows)

    def get(self, adjustment_id: str) -> AdjustmentRecord | None:
        row = self._conn.execute(
            select(adjustments).where(
                adjustments.c.tenant_id == self._tenant,
                adjustments.c.adjustment_id == adjustment_id,
            )
        ).first()
        return _adjustment(row) if row else None

    def set_status(self, adjustment_id: str, status: str) -> None:
        self._conn.execute(
            update(adjustments)
            .where(
                adjustments.c.tenant_id == self._tenant,
                adjustments.c.adjustment_id == adjustment_id,
            )
            .values(status=status)
        )

    def find(
        self,
        *,
        metric: str | None = None,
        customer_ref: str | None = None,
        reverts: str | None = None,
    ) -> list[AdjustmentRecord]:
        query = select(adjustments).where(adjustments.c.tenant_id == self._tenant)
        if metric is not None:
            query = query.where(adjustments.c.metric == metric)
        if customer_ref is not None:
            query = query.where(adjustments.c.customer_ref == customer_ref)
        if reverts is not None:
            query = query.where(adjustments.c.reverts == reverts)
        query = query.order_by(adjustments.c.created_us, adjustments.c.adjustment_id)
        return [_adjustment(row) for row in self._conn.execute(query)]


def _as_row(record: AdjustmentRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in AdjustmentRecord.__slots__}


def _adjustment(row: Any) -> AdjustmentRecord:
    return AdjustmentRecord(**{name: row._mapping[name] for name in AdjustmentRecord.__slots__})


# Built once: ingest asks for every group (a statement object built per call, and its cache
# key, cost more than running it).
_CLOSES_OF_CUSTOMERS = select(period_locks).where(
    period_locks.c.tenant_id == bindparam("tenant"),
    period_locks.c.customer_ref.in_(bindparam("refs", expanding=True)),
)


_CLOSED_KEYS_POSTGRES = (
    "SELECT p.metric, p.customer_ref, p.period_start_us "
    "FROM jsonb_array_elements(%s::jsonb) AS k(e) CROSS JOIN LATERAL ("
    "SELECT r.metric, r.customer_ref, r.period_start_us FROM period_locks r "
    "WHERE r.tenant_id = %s AND r.metric = (k.e->>0) AND r.customer_ref = (k.e->>1) "
    "AND r.period_start_us = (k.e->>2)::bigint LIMIT 1) p"
)
_CLOSED_KEYS_SQLITE = (
    "SELECT r.metric, r.customer_ref, r.period_start_us FROM json_each(?) AS k "
    "JOIN period_locks r ON r.tenant_id = ? AND r.metric = json_extract(k.value, '$[0]') "
    "AND r.customer_ref = json_extract(k.value, '$[1]') "
    "AND r.period_start_us = json_extract(k.value, '$[2]')"
)


class PeriodClosesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def find_many(
        self, keys: Sequence[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], PeriodClose]:
        """Closes of the given counters' periods: which are closed, by key; then, for those
        (rare), their rows, selected by customer (cheap to bind) and filtered."""
        found: dict[tuple[str, str, int], PeriodClose] = {}
        closed = self._closed_keys(list(set(keys)))  # a probe per key: any order (ADR 0976)
        if not closed:
            return found  # the usual answer, from one plain statement on the driver
        for part in chunks(sorted({c for _, c, _ in closed})):
            rows = self._conn.execute(
                _CLOSES_OF_CUSTOMERS, {"tenant": self._tenant, "refs": list(part)}
            )
            for row in rows:
                lock = _lock(row)
                key = (lock.metric, lock.customer_ref, lock.period_start_us)
                if key in closed:
                    found[key] = lock
        return found

    def _closed_keys(self, keys: list[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
        """Which of these counter keys have their period closed: ingest asks for every group
        and almost always hears "none", so this skips SQLAlchemy's per-call parameter
        expansion. The keys as one JSON array: one statement text whatever their number
        (prepared once), and no list dumped element by element by the driver (ADR 0889).
        Each key is one probe of the primary key: by customer alone, every close of the
        tenant was read for each group (no index leads with the customer; ADR 0943)."""
        if not keys:
            return set()
        sql = _CLOSED_KEYS_SQLITE if self._dialect.name == "sqlite" else _CLOSED_KEYS_POSTGRES
        rows = self._conn.exec_driver_sql(sql, (_JSON.encode(keys).decode(), self._tenant))
        return {(m, c, int(p)) for m, c, p in rows}

    def find(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[PeriodClose]:
        query = select(period_locks).where(period_locks.c.tenant_id == self._tenant)
        if metric is not None:
            query = query.where(period_locks.c.metric == metric)
        if customer_ref is not None:
            query = query.where(period_locks.c.customer_ref == customer_ref)
        return [_lock(row) for row in self._conn.execute(query)]

    def add(self, lock: PeriodClose) -> bool:
        result = self._conn.execute(
            self._dialect.upsert(period_locks)
            .values(tenant_id=self._tenant, **{n: getattr(lock, n) for n in PeriodClose.__slots__})
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)


def _lock(row: Any) -> PeriodClose:
    return PeriodClose(**{name: row._mapping[name] for name in PeriodClose.__slots__})
