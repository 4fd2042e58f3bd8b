"""Operations tables: the audit log, the per-tenant rate-limit buckets, worker heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.operations.ports import (
    AuditRecord,
    BucketRow,
    Heartbeat,
)
from stripemeter_server.storage.schema import (
    audit_log,
    counters,
    tenant_rate_limits,
    worker_heartbeats,
)
from stripemeter_server.storage.sql_dialect import SqlDialect


class AuditRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def add(self, tenant_id: str, record: AuditRecord) -> None:
        self._conn.execute(audit_log.insert().values(tenant_id=tenant_id, **_fields(record)))

    def page(
        self, where: AuditFilter, *, before: tuple[int, str] | None, limit: int
    ) -> list[AuditRecord]:
        """Newest first; ``before`` is the keyset cursor (created_us, audit_id) of the last
        row of the previous page."""
        c = audit_log.c
        query = select(audit_log).where(c.tenant_id == self._tenant)
        for column, value in (
            (c.action, where.action),
            (c.actor, where.actor),
            (c.target_type, where.target_type),
            (c.target_id, where.target_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.from_us is not None:
            query = query.where(c.created_us >= where.from_us)
        if where.to_us is not None:
            query = query.where(c.created_us < where.to_us)
        if before is not None:
            query = query.where(
                or_(
                    c.created_us < before[0],
                    and_(c.created_us == before[0], c.audit_id < before[1]),
                )
            )
        query = query.order_by(c.created_us.desc(), c.audit_id.desc()).limit(limit)
        return [
            AuditRecord(**{k: getattr(row, k) for k in AuditRecord.__slots__})
            for row in self._conn.execute(query)
        ]


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in AuditRecord.__slots__}


class RateLimitRepository:
    """Buckets are tenant rows; the admission transaction locks the row, reads it with the
    database's own time, and writes the new level back."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def of(self, tenant_id: str) -> RateLimitRepository:
        """The same table for another tenant (admission learns the tenant from the key)."""
        return RateLimitRepository(self._conn, self._dialect, tenant_id)

    def settings(self) -> tuple[float | None, float | None]:
        row = self._conn.execute(
            select(tenant_rate_limits.c.rate_per_second, tenant_rate_limits.c.burst).where(
                tenant_rate_limits.c.tenant_id == self._tenant
            )
        ).first()
        return (row.rate_per_second, row.burst) if row else (None, None)

    def configure(self, rate: float | None, burst: float | None) -> None:
        """Set (or with ``None``, reset to the defaults) the tenant's limits."""
        # A new row starts "long ago" and empty: its first use refills it to a full burst.
        stmt = self._dialect.upsert(tenant_rate_limits).values(
            tenant_id=self._tenant, rate_per_second=rate, burst=burst, tokens=0.0, updated_us=0
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id"], set_={"rate_per_second": rate, "burst": burst}
            )
        )

    def lock(self, initial_tokens: float) -> BucketRow:
        """The tenant's bucket, locked until commit (created full on first use)."""
        c = tenant_rate_limits.c
        query = self._dialect.lock_rows(
            select(
                c.rate_per_second,
                c.burst,
                c.tokens,
                c.updated_us,
                self._dialect.clock_us().label("now_us"),
            ).where(c.tenant_id == self._tenant)
        )
        self._dialect.relax_commit_durability(self._conn)  # a lost bucket level is harmless
        row = self._conn.execute(query).first()
        if row is None:
            stmt = self._dialect.upsert(tenant_rate_limits).values(
                tenant_id=self._tenant,
                rate_per_second=None,
                burst=None,
                tokens=initial_tokens,
                updated_us=0,
            )
            self._conn.execute(stmt.on_conflict_do_nothing(index_elements=["tenant_id"]))
            row = self._conn.execute(query).one()
        return BucketRow(
            row.rate_per_second, row.burst, float(row.tokens), int(row.updated_us), int(row.now_us)
        )

    def store(self, tokens: float, at_us: int) -> None:
        self._conn.execute(
            update(tenant_rate_limits)
            .where(tenant_rate_limits.c.tenant_id == self._tenant)
            .values(tokens=tokens, updated_us=at_us)
        )


class HeartbeatRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect) -> None:
        self._conn = conn
        self._dialect = dialect

    def beat(self, beat: Heartbeat) -> None:
        stmt = self._dialect.upsert(worker_heartbeats).values(
            **{k: getattr(beat, k) for k in Heartbeat.__slots__}
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["worker_id", "loop"], set_={"beat_us": beat.beat_us}
            )
        )

    def latest(self) -> dict[str, int]:
        """The freshest beat per loop name, over every worker that ever beat."""
        c = worker_heartbeats.c
        rows = self._conn.execute(select(c.loop, func.max(c.beat_us)).group_by(c.loop))
        return {loop: int(beat) for loop, beat in rows}

    def all(self) -> Sequence[Heartbeat]:
        rows = self._conn.execute(
            select(worker_heartbeats).order_by(
                worker_heartbeats.c.loop, worker_heartbeats.c.worker_id
            )
        )
        return [Heartbeat(**{k: getattr(r, k) for k in Heartbeat.__slots__}) for r in rows]


class GaugesRepository:
    """Cross-tenant figures for ``/metrics`` (read at scrape time)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open_periods(self, now_us: int) -> int:
        query = select(func.count()).select_from(counters).where(counters.c.period_end_us > now_us)
        return int(self._conn.execute(query).scalar_one())
