"""Reconciliation runs (stored, tenant-scoped, claimed with a lease), their lines, and the
tenant's invoice-gate setting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Row

from stripemeter_server.storage.dialects import for_update, insert_for
from stripemeter_server.storage.schema import (
    reconciliation_lines,
    reconciliation_runs,
    reconciliation_settings,
)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class GateSetting:
    gate: str
    lead_seconds: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    tenant_id: str
    trigger: str
    filters: str
    repair: bool
    status: str
    progress_done: int
    progress_total: int | None
    summary: str | None
    error: str | None
    created_us: int
    started_us: int | None
    finished_us: int | None


@dataclass(frozen=True, slots=True)
class LineRecord:
    line_no: int
    customer_ref: str
    metric: str
    mode: str
    period_start_us: int
    period_end_us: int
    local_value: Decimal | None
    pushed_value: Decimal | None
    stripe_value: Decimal | None
    absolute_drift: Decimal
    relative_drift: Decimal | None
    status: str
    money_at_stake: Decimal | None
    currency: str | None
    action: str | None
    note: str | None


def _run(row: Row[Any]) -> RunRecord:
    return RunRecord(row.run_id, row.tenant_id, row.trigger, row.filters, bool(row.repair),
                     row.status, row.progress_done, row.progress_total, row.summary, row.error,
                     row.created_us, row.started_us, row.finished_us)


_LINE_FIELDS = tuple(LineRecord.__dataclass_fields__)


def _line(row: Row[Any]) -> LineRecord:
    mapping = row._mapping
    return LineRecord(**{name: mapping[name] for name in _LINE_FIELDS})


class ReconciliationRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    # --- the gate setting ---------------------------------------------------------------

    def gate(self) -> GateSetting | None:
        row = self._conn.execute(select(reconciliation_settings).where(
            reconciliation_settings.c.tenant_id == self._tenant)).first()
        return None if row is None else GateSetting(row.gate, row.lead_seconds)

    def put_gate(self, setting: GateSetting, now_us: int) -> None:
        values = {"gate": setting.gate, "lead_seconds": setting.lead_seconds,
                  "updated_us": now_us}
        statement = insert_for(self._conn, reconciliation_settings).values(
            tenant_id=self._tenant, **values)
        self._conn.execute(statement.on_conflict_do_update(index_elements=["tenant_id"],
                                                           set_=values))

    # --- runs ---------------------------------------------------------------------------

    def create_run(self, run_id: str, *, trigger: str, filters: str, repair: bool,
                   now_us: int) -> None:
        self._conn.execute(reconciliation_runs.insert().values(
            tenant_id=self._tenant, run_id=run_id, trigger=trigger, filters=filters,
            repair=repair, status=QUEUED, progress_done=0, created_us=now_us))

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._conn.execute(select(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant,
            reconciliation_runs.c.run_id == run_id)).first()
        return None if row is None else _run(row)

    def list_runs(self, *, before_us: int | None, limit: int) -> list[RunRecord]:
        """Newest first (keyset on creation time)."""
        query = select(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant)
        if before_us is not None:
            query = query.where(reconciliation_runs.c.created_us < before_us)
        query = query.order_by(reconciliation_runs.c.created_us.desc()).limit(limit)
        return [_run(r) for r in self._conn.execute(query)]

    def claim_run(self, run_id: str, now_us: int, lease_us: int) -> RunRecord | None:
        """Take a queued run (or one whose worker's lease lapsed); None if someone has it."""
        row = self._conn.execute(for_update(self._conn, select(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant,
            reconciliation_runs.c.run_id == run_id))).first()
        if row is None or row.status in (DONE, FAILED):
            return None
        if row.status == RUNNING and (row.lease_until_us or 0) > now_us:
            return None
        self._conn.execute(update(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant,
            reconciliation_runs.c.run_id == run_id).values(
            status=RUNNING, started_us=row.started_us or now_us,
            lease_until_us=now_us + lease_us))
        return self.get_run(run_id)

    def queued_runs(self, limit: int) -> list[tuple[str, str]]:
        """(tenant, run id) of runs waiting for a worker, oldest first, every tenant."""
        rows = self._conn.execute(
            select(reconciliation_runs.c.tenant_id, reconciliation_runs.c.run_id)
            .where(reconciliation_runs.c.status.in_([QUEUED, RUNNING]))
            .order_by(reconciliation_runs.c.created_us).limit(limit))
        return [(r[0], r[1]) for r in rows]

    def progress(self, run_id: str, done: int, total: int | None, lease_until_us: int) -> None:
        self._conn.execute(update(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant,
            reconciliation_runs.c.run_id == run_id).values(
            progress_done=done, progress_total=total, lease_until_us=lease_until_us))

    def finish(self, run_id: str, *, status: str, summary: str | None, error: str | None,
               now_us: int) -> None:
        self._conn.execute(update(reconciliation_runs).where(
            reconciliation_runs.c.tenant_id == self._tenant,
            reconciliation_runs.c.run_id == run_id).values(
            status=status, summary=summary, error=error, finished_us=now_us,
            lease_until_us=None))

    # --- lines --------------------------------------------------------------------------

    def add_lines(self, run_id: str, lines: Sequence[LineRecord]) -> None:
        if not lines:
            return
        rows = [{"tenant_id": self._tenant, "run_id": run_id,
                 **{name: getattr(line, name) for name in _LINE_FIELDS}} for line in lines]
        self._conn.execute(reconciliation_lines.insert(), rows)

    def line_count(self, run_id: str) -> int:
        return int(self._conn.execute(select(func.count()).where(
            reconciliation_lines.c.tenant_id == self._tenant,
            reconciliation_lines.c.run_id == run_id)).scalar_one())

    def lines(self, run_id: str, *, after: int = 0, limit: int = 500,
              status: str | None = None) -> list[LineRecord]:
        query = select(reconciliation_lines).where(
            reconciliation_lines.c.tenant_id == self._tenant,
            reconciliation_lines.c.run_id == run_id,
            reconciliation_lines.c.line_no > after)
        if status is not None:
            query = query.where(reconciliation_lines.c.status == status)
        query = query.order_by(reconciliation_lines.c.line_no).limit(limit)
        return [_line(r) for r in self._conn.execute(query)]

    def set_action(self, run_id: str, line_no: int, action: str, note: str | None) -> None:
        self._conn.execute(update(reconciliation_lines).where(
            reconciliation_lines.c.tenant_id == self._tenant,
            reconciliation_lines.c.run_id == run_id,
            reconciliation_lines.c.line_no == line_no).values(action=action, note=note))
