"""Backfill sessions, the tenant's four-eyes policy, and approval decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.corrections.ports.backfills import (
    ApprovalRecord,
    BackfillRecord,
)
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.schema import approvals, backfills, corrections_policy
from stripemeter_server.storage.sql_dialect import SqlDialect

# Built once, by filter: every current-usage read asks for the open sessions (ADR 0830).
_FIND = {
    (statuses, metric): (
        select(backfills)
        .where(backfills.c.tenant_id == bindparam("tenant"))
        .where(
            *([backfills.c.status.in_(bindparam("statuses", expanding=True))] if statuses else [])
        )
        .where(*([backfills.c.metric == bindparam("metric")] if metric else []))
        .order_by(backfills.c.created_us, backfills.c.backfill_id)
    )
    for statuses in (False, True)
    for metric in (False, True)
}

_BACKFILL_FIELDS = tuple(f.name for f in fields(BackfillRecord))


def backfill_record(row: Any) -> BackfillRecord:
    values = {name: row._mapping[name] for name in _BACKFILL_FIELDS}
    raw = values["customers"]
    values["customers"] = tuple(json.loads(raw)) if raw is not None else None
    return BackfillRecord(**values)


def _backfill_row(record: BackfillRecord) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in _BACKFILL_FIELDS}
    customers = record.customers
    row["customers"] = json.dumps(list(customers)) if customers is not None else None
    return row


class BackfillsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def add(self, record: BackfillRecord) -> None:
        row = _backfill_row(record)
        self._conn.execute(backfills.insert().values(tenant_id=self._tenant, **row))

    def get(self, backfill_id: str, *, lock: bool = False) -> BackfillRecord | None:
        """One session; ``lock`` takes its row for update (close and revert serialise here)."""
        query = select(backfills).where(
            backfills.c.tenant_id == self._tenant, backfills.c.backfill_id == backfill_id
        )
        if lock:
            query = self._dialect.lock_rows(query)
        row = self._conn.execute(query).first()
        return backfill_record(row) if row else None

    def get_shared(self, backfill_ids: Sequence[str]) -> dict[str, BackfillRecord]:
        """Sessions that ingest is about to add events to, share-locked on PostgreSQL: a close
        or revert waits for this transaction, so no event slips in behind its rebuild."""
        found: dict[str, BackfillRecord] = {}
        for part in chunks(sorted(set(backfill_ids))):
            query = select(backfills).where(
                backfills.c.tenant_id == self._tenant, backfills.c.backfill_id.in_(list(part))
            )
            query = self._dialect.share_rows(query)
            found.update({r.backfill_id: backfill_record(r) for r in self._conn.execute(query)})
        return found

    def save(self, record: BackfillRecord) -> None:
        row = _backfill_row(record)
        del row["backfill_id"]
        self._conn.execute(
            update(backfills)
            .where(
                backfills.c.tenant_id == self._tenant,
                backfills.c.backfill_id == record.backfill_id,
            )
            .values(**row)
        )

    def find(
        self, *, statuses: Sequence[str] | None = None, metric: str | None = None
    ) -> list[BackfillRecord]:
        params: dict[str, Any] = {"tenant": self._tenant}
        if statuses is not None:
            params["statuses"] = list(statuses)
        if metric is not None:
            params["metric"] = metric
        statement = _FIND[(statuses is not None, metric is not None)]
        return [backfill_record(row) for row in self._conn.execute(statement, params)]


class ApprovalsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def add(self, record: ApprovalRecord) -> bool:
        """Record a decision; False when the subject was already decided (one each)."""
        values = {f.name: getattr(record, f.name) for f in fields(ApprovalRecord)}
        result = self._conn.execute(
            self._dialect.upsert(approvals)
            .values(tenant_id=self._tenant, **values)
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)

    def get(self, subject_id: str) -> ApprovalRecord | None:
        row = self._conn.execute(
            select(approvals).where(
                approvals.c.tenant_id == self._tenant, approvals.c.subject_id == subject_id
            )
        ).first()
        if row is None:
            return None
        return ApprovalRecord(**{f.name: row._mapping[f.name] for f in fields(ApprovalRecord)})

    def four_eyes(self) -> bool:
        row = self._conn.execute(
            select(corrections_policy.c.four_eyes).where(
                corrections_policy.c.tenant_id == self._tenant
            )
        ).first()
        return bool(row[0]) if row else False

    def set_four_eyes(self, on: bool, actor: str, now_us: int) -> None:
        values = {"four_eyes": on, "updated_by": actor, "updated_us": now_us}
        self._conn.execute(
            self._dialect.upsert(corrections_policy)
            .values(tenant_id=self._tenant, **values)
            .on_conflict_do_update(index_elements=[corrections_policy.c.tenant_id], set_=values)
        )
