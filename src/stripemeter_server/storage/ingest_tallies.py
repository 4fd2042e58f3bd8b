"""Ingest outcomes per tenant minute: one upsert per ingest transaction, summed for windows."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.ingest.ports import TALLY_FIELDS, IngestTally
from stripemeter_server.storage.schema import ingest_tallies
from stripemeter_server.storage.sql_dialect import SqlDialect


class IngestTalliesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def add(self, minute_us: int, counts: IngestTally, slot: int = 0) -> None:
        """``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x``: one statement, and
        concurrent transactions of the tenant add up instead of overwriting each other."""
        values = {name: getattr(counts, name) for name in TALLY_FIELDS}
        stmt = self._dialect.upsert(ingest_tallies).values(
            tenant_id=self._tenant, minute_us=minute_us, slot=slot, **values)
        self._conn.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "minute_us", "slot"],
            set_={name: ingest_tallies.c[name] + stmt.excluded[name] for name in TALLY_FIELDS}))

    def sums(self, since_us: int) -> IngestTally:
        """The totals of the minutes starting at or after ``since_us`` (a primary key range)."""
        c = ingest_tallies.c
        query = select(*(func.coalesce(func.sum(c[name]), 0) for name in TALLY_FIELDS)).where(
            c.tenant_id == self._tenant, c.minute_us >= since_us)
        row = self._conn.execute(query).one()
        return IngestTally(*(int(value) for value in row))

    def prune(self, before_us: int, limit: int) -> int:
        """The oldest minutes first, found on the primary key's range (tenant, minute): the
        last of ``limit`` rows found bounds a range delete of whole minutes."""
        c = ingest_tallies.c
        oldest = select(c.minute_us).where(
            c.tenant_id == self._tenant, c.minute_us < before_us,
        ).order_by(c.minute_us).limit(limit)
        minutes = [row.minute_us for row in self._conn.execute(oldest)]
        if not minutes:
            return 0
        result = self._conn.execute(delete(ingest_tallies).where(
            c.tenant_id == self._tenant, c.minute_us <= minutes[-1], c.minute_us < before_us))
        return int(result.rowcount)
