"""Rebuild jobs: what was asked, by whom, and how it ended (the counters are the result)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord
from stripemeter_server.storage.schema import rebuild_jobs

_FIELDS = tuple(f.name for f in fields(RebuildJobRecord))


class RebuildJobsRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def add(self, record: RebuildJobRecord) -> None:
        values = {name: getattr(record, name) for name in _FIELDS}
        self._conn.execute(rebuild_jobs.insert().values(tenant_id=self._tenant, **values))

    def get(self, job_id: str) -> RebuildJobRecord | None:
        row = self._conn.execute(
            select(rebuild_jobs).where(
                rebuild_jobs.c.tenant_id == self._tenant, rebuild_jobs.c.job_id == job_id
            )
        ).first()
        return RebuildJobRecord(**{n: row._mapping[n] for n in _FIELDS}) if row else None

    def recent(self, limit: int) -> list[RebuildJobRecord]:
        """The newest jobs first (a tenant has few: jobs are operator actions)."""
        query = (
            select(rebuild_jobs)
            .where(rebuild_jobs.c.tenant_id == self._tenant)
            .order_by(rebuild_jobs.c.created_us.desc(), rebuild_jobs.c.job_id.desc())
            .limit(limit)
        )
        return [
            RebuildJobRecord(**{n: row._mapping[n] for n in _FIELDS})
            for row in self._conn.execute(query)
        ]

    def finish(self, job_id: str, **values: Any) -> None:
        self._conn.execute(
            update(rebuild_jobs)
            .where(rebuild_jobs.c.tenant_id == self._tenant, rebuild_jobs.c.job_id == job_id)
            .values(**values)
        )
