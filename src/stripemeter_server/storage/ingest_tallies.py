"""Ingest outcomes per tenant minute: one upsert per ingest transaction, summed for windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.ingest.ports import TALLY_FIELDS, IngestTally
from stripemeter_server.storage.schema import ingest_tallies
from stripemeter_server.storage.sql_dialect import SqlDialect

_ADD = (
    f"INSERT INTO ingest_tallies (tenant_id, minute_us, slot, {', '.join(TALLY_FIELDS)}) "
    f"VALUES ({', '.join(['{mark}'] * (3 + len(TALLY_FIELDS)))}) "
    "ON CONFLICT (tenant_id, minute_us, slot) DO UPDATE SET "
    + ", ".join(f"{n} = ingest_tallies.{n} + excluded.{n}" for n in TALLY_FIELDS)
)
_ADD_SQLITE, _ADD_POSTGRES = _ADD.format(mark="?"), _ADD.format(mark="%s")


# Queues a write to go out with the transaction's COMMIT (PostgreSQL, ADR 0969); False when
# the transaction cannot take it (the caller runs the statement itself).
Defer = Callable[[Connection, str, Sequence[Any]], bool]


class IngestTalliesRepository:
    def __init__(
        self, conn: Connection, dialect: SqlDialect, tenant_id: str, defer: Defer | None = None
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._defer = defer

    def add(self, minute_us: int, counts: IngestTally, slot: int = 0) -> None:
        """``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x``: one statement, and
        concurrent transactions of the tenant add up instead of overwriting each other. Run
        on the driver with text built once: ingest writes it in every group, and building
        and compiling the statement per call cost more than running it. Nothing reads the
        row back in the transaction that adds to it, so on PostgreSQL it goes out with the
        ``COMMIT`` when the transaction was opened on the driver (ADR 0969)."""
        sql = _ADD_SQLITE if self._dialect.name == "sqlite" else _ADD_POSTGRES
        params = (self._tenant, minute_us, slot, *(getattr(counts, n) for n in TALLY_FIELDS))
        if self._defer is None or not self._defer(self._conn, sql, params):
            self._conn.exec_driver_sql(sql, params)

    def sums(self, since_us: int) -> IngestTally:
        """The totals of the minutes starting at or after ``since_us`` (a primary key range)."""
        c = ingest_tallies.c
        query = select(*(func.coalesce(func.sum(c[name]), 0) for name in TALLY_FIELDS)).where(
            c.tenant_id == self._tenant, c.minute_us >= since_us
        )
        row = self._conn.execute(query).one()
        return IngestTally(*(int(value) for value in row))

    def prune(self, before_us: int, limit: int) -> int:
        """The oldest minutes first, found on the primary key's range (tenant, minute): the
        last of ``limit`` rows found bounds a range delete of whole minutes."""
        c = ingest_tallies.c
        oldest = (
            select(c.minute_us)
            .where(
                c.tenant_id == self._tenant,
                c.minute_us < before_us,
            )
            .order_by(c.minute_us)
            .limit(limit)
        )
        minutes = [row.minute_us for row in self._conn.execute(oldest)]
        if not minutes:
            return 0
        result = self._conn.execute(
            delete(ingest_tallies).where(
                c.tenant_id == self._tenant, c.minute_us <= minutes[-1], c.minute_us < before_us
            )
        )
        return int(result.rowcount)
