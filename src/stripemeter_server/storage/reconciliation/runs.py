"""Reconciliation runs (stored, tenant-scoped, claimed with a lease), their lines, and the
tenant's invoice-gate setting."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, union, update
from sqlalchemy.engine import Connection, Row

from stripemeter_server.service.reconciliation.ports import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    GateSetting,
    GateVerdict,
    LineRecord,
    MetricTotals,
    RunRecord,
)
from stripemeter_server.storage.reconciliation.facts import ReconciliationFacts
from stripemeter_server.storage.schema import (
    counters,
    customers,
    reconciliation_invoices,
    reconciliation_lines,
    reconciliation_runs,
    reconciliation_settings,
)
from stripemeter_server.storage.sql_dialect import SqlDialect


def _run(row: Row[Any]) -> RunRecord:
    return RunRecord(
        row.run_id,
        row.tenant_id,
        row.trigger,
        row.filters,
        bool(row.repair),
        row.status,
        row.progress_done,
        row.progress_total,
        row.summary,
        row.error,
        row.created_us,
        row.started_us,
        row.finished_us,
    )


_LINE_FIELDS = tuple(LineRecord.__dataclass_fields__)


def _line(row: Row[Any]) -> LineRecord:
    mapping = row._mapping
    return LineRecord(**{name: mapping[name] for name in _LINE_FIELDS})


class ReconciliationRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self.facts = ReconciliationFacts(conn, tenant_id)

    # --- the gate setting ---------------------------------------------------------------

    def gate(self) -> GateSetting | None:
        row = self._conn.execute(
            select(reconciliation_settings).where(
                reconciliation_settings.c.tenant_id == self._tenant
            )
        ).first()
        return None if row is None else GateSetting(row.gate, row.lead_seconds)

    def put_gate(self, setting: GateSetting, now_us: int) -> None:
        values = {"gate": setting.gate, "lead_seconds": setting.lead_seconds, "updated_us": now_us}
        statement = self._dialect.upsert(reconciliation_settings).values(
            tenant_id=self._tenant, **values
        )
        self._conn.execute(
            statement.on_conflict_do_update(index_elements=["tenant_id"], set_=values)
        )

    # --- runs ---------------------------------------------------------------------------

    def create_run(
        self, run_id: str, *, trigger: str, filters: str, repair: bool, now_us: int
    ) -> bool:
        """Queue a run; False when the id exists (a scheduled run another node created)."""
        row = self._conn.execute(
            self._dialect.upsert(reconciliation_runs)
            .values(
                tenant_id=self._tenant,
                run_id=run_id,
                trigger=trigger,
                filters=filters,
                repair=repair,
                status=QUEUED,
                progress_done=0,
                created_us=now_us,
            )
            .on_conflict_do_nothing()
            .returning(reconciliation_runs.c.run_id)
        ).first()
        return row is not None

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._conn.execute(
            select(reconciliation_runs).where(
                reconciliation_runs.c.tenant_id == self._tenant,
                reconciliation_runs.c.run_id == run_id,
            )
        ).first()
        return None if row is None else _run(row)

    def list_runs(self, *, before: tuple[int, str] | None, limit: int) -> list[RunRecord]:
        """Newest first (keyset on creation time, then id)."""
        t = reconciliation_runs
        query = select(t).where(t.c.tenant_id == self._tenant)
        if before is not None:
            query = query.where(
                (t.c.created_us < before[0])
                | ((t.c.created_us == before[0]) & (t.c.run_id < before[1]))
            )
        query = query.order_by(t.c.created_us.desc(), t.c.run_id.desc()).limit(limit)
        return [_run(r) for r in self._conn.execute(query)]

    def claim_run(self, run_id: str, now_us: int, lease_us: int) -> RunRecord | None:
        """Take a queued run (or one whose worker's lease lapsed); None if someone has it."""
        row = self._conn.execute(
            self._dialect.lock_rows(
                select(reconciliation_runs).where(
                    reconciliation_runs.c.tenant_id == self._tenant,
                    reconciliation_runs.c.run_id == run_id,
                )
            )
        ).first()
        if row is None or row.status in (DONE, FAILED):
            return None
        if row.status == RUNNING and (row.lease_until_us or 0) > now_us:
            return None
        self._conn.execute(
            update(reconciliation_runs)
            .where(
                reconciliation_runs.c.tenant_id == self._tenant,
                reconciliation_runs.c.run_id == run_id,
            )
            .values(
                status=RUNNING,
                started_us=row.started_us or now_us,
                lease_until_us=now_us + lease_us,
            )
        )
        return self.get_run(run_id)

    def queued_runs(self, limit: int) -> list[tuple[str, str]]:
        """(tenant, run id) of the tenant's runs waiting for a worker, oldest first."""
        rows = self._conn.execute(
            select(reconciliation_runs.c.tenant_id, reconciliation_runs.c.run_id)
            .where(
                reconciliation_runs.c.tenant_id == self._tenant,
                reconciliation_runs.c.status.in_([QUEUED, RUNNING]),
            )
            .order_by(reconciliation_runs.c.created_us)
            .limit(limit)
        )
        return [(r[0], r[1]) for r in rows]

    def progress(self, run_id: str, done: int, total: int | None, lease_until_us: int) -> None:
        self._conn.execute(
            update(reconciliation_runs)
            .where(
                reconciliation_runs.c.tenant_id == self._tenant,
                reconciliation_runs.c.run_id == run_id,
            )
            .values(progress_done=done, progress_total=total, lease_until_us=lease_until_us)
        )

    def finish(
        self, run_id: str, *, status: str, summary: str | None, error: str | None, now_us: int
    ) -> None:
        self._conn.execute(
            update(reconciliation_runs)
            .where(
                reconciliation_runs.c.tenant_id == self._tenant,
                reconciliation_runs.c.run_id == run_id,
            )
            .values(
                status=status, summary=summary, error=error, finished_us=now_us, lease_until_us=None
            )
        )

    # --- lines --------------------------------------------------------------------------

    def add_lines(self, run_id: str, lines: Sequence[LineRecord]) -> None:
        if not lines:
            return
        rows = [
            {
                "tenant_id": self._tenant,
                "run_id": run_id,
                **{name: getattr(line, name) for name in _LINE_FIELDS},
            }
            for line in lines
        ]
        self._conn.execute(reconciliation_lines.insert(), rows)

    def delete_lines(self, run_id: str) -> None:
        """A re-claimed run starts its lines again (its previous worker died mid-run)."""
        self._conn.execute(
            reconciliation_lines.delete().where(
                reconciliation_lines.c.tenant_id == self._tenant,
                reconciliation_lines.c.run_id == run_id,
            )
        )

    def line_count(self, run_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count()).where(
                    reconciliation_lines.c.tenant_id == self._tenant,
                    reconciliation_lines.c.run_id == run_id,
                )
            ).scalar_one()
        )

    def lines(
        self, run_id: str, *, after: int = 0, limit: int = 500, status: str | None = None
    ) -> list[LineRecord]:
        query = select(reconciliation_lines).where(
            reconciliation_lines.c.tenant_id == self._tenant,
            reconciliation_lines.c.run_id == run_id,
            reconciliation_lines.c.line_no > after,
        )
        if status is not None:
            query = query.where(reconciliation_lines.c.status == status)
        query = query.order_by(reconciliation_lines.c.line_no).limit(limit)
        return [_line(r) for r in self._conn.execute(query)]

    def set_action(
        self,
        run_id: str,
        line_no: int,
        action: str,
        note: str | None,
        status_after: str | None = None,
    ) -> None:
        self._conn.execute(
            update(reconciliation_lines)
            .where(
                reconciliation_lines.c.tenant_id == self._tenant,
                reconciliation_lines.c.run_id == run_id,
                reconciliation_lines.c.line_no == line_no,
            )
            .values(action=action, note=note, status_after=status_after)
        )

    def totals(self, run_id: str) -> list[MetricTotals]:
        """Per metric and status: line count and the sums of local, Stripe, |drift| and
        money at stake (one aggregate query; runs may hold millions of lines)."""
        t = reconciliation_lines
        rows = self._conn.execute(
            select(
                t.c.metric,
                t.c.status,
                func.count(),
                func.sum(t.c.local_value),
                func.sum(t.c.stripe_value),
                func.sum(func.abs(t.c.absolute_drift)),
                func.sum(t.c.money_at_stake),
            )
            .where(t.c.tenant_id == self._tenant, t.c.run_id == run_id)
            .group_by(t.c.metric, t.c.status)
            .order_by(t.c.metric, t.c.status)
        )
        return [
            MetricTotals(r[0], r[1], int(r[2]), _dec(r[3]), _dec(r[4]), _dec(r[5]), _dec(r[6]))
            for r in rows
        ]

    def unresolved_count(self, run_id: str) -> int:
        """Lines that need an operator: not ok/pending, and not repaired to ok."""
        t = reconciliation_lines
        return int(
            self._conn.execute(
                select(func.count()).where(
                    t.c.tenant_id == self._tenant,
                    t.c.run_id == run_id,
                    t.c.status.not_in(["ok", "pending"]),
                    (t.c.status_after.is_(None)) | (t.c.status_after.not_in(["ok", "pending"])),
                )
            ).scalar_one()
        )

    # --- the customers a run walks (keyset pages) ---------------------------------------

    def _customers(self, min_end_us: int, after: str | None) -> Any:
        used = select(counters.c.customer_ref.label("ref")).where(
            counters.c.tenant_id == self._tenant, counters.c.period_end_us > min_end_us
        )
        known = select(customers.c.customer_ref.label("ref")).where(
            customers.c.tenant_id == self._tenant
        )
        if after is not None:
            used = used.where(counters.c.customer_ref > after)
            known = known.where(customers.c.customer_ref > after)
        return union(used, known).subquery()

    def customer_count(self, min_end_us: int) -> int:
        both = self._customers(min_end_us, None)
        return int(self._conn.execute(select(func.count()).select_from(both)).scalar_one())

    def customer_page(self, *, after: str | None, limit: int, min_end_us: int) -> list[str]:
        """Customers with a counter ending after ``min_end_us``, and registered customers,
        in ``customer_ref`` order after ``after`` (the index on counters serves it)."""
        both = self._customers(min_end_us, after)
        query = select(both.c.ref).order_by(both.c.ref).limit(limit)
        return [r[0] for r in self._conn.execute(query)]

    # --- the invoice gate's verdicts ----------------------------------------------------

    def verdict(self, invoice_id: str) -> GateVerdict | None:
        row = self._conn.execute(
            select(reconciliation_invoices).where(
                reconciliation_invoices.c.tenant_id == self._tenant,
                reconciliation_invoices.c.invoice_id == invoice_id,
            )
        ).first()
        return (
            None
            if row is None
            else GateVerdict(**{n: row._mapping[n] for n in GateVerdict.__dataclass_fields__})
        )

    def put_verdict(self, verdict: GateVerdict) -> None:
        values = {n: getattr(verdict, n) for n in GateVerdict.__dataclass_fields__}
        changing = {k: v for k, v in values.items() if k not in ("invoice_id", "created_us")}
        self._conn.execute(
            self._dialect.upsert(reconciliation_invoices)
            .values(tenant_id=self._tenant, **values)
            .on_conflict_do_update(index_elements=["tenant_id", "invoice_id"], set_=changing)
        )

    def verdicts(self, *, state: str | None = None, limit: int = 100) -> list[GateVerdict]:
        query = select(reconciliation_invoices).where(
            reconciliation_invoices.c.tenant_id == self._tenant
        )
        if state is not None:
            query = query.where(reconciliation_invoices.c.state == state)
        query = query.order_by(reconciliation_invoices.c.updated_us.desc()).limit(limit)
        return [
            GateVerdict(**{n: r._mapping[n] for n in GateVerdict.__dataclass_fields__})
            for r in self._conn.execute(query)
        ]

    def held_count(self) -> int:
        """Invoices held by the gate right now, every tenant (for ``/metrics``)."""
        return int(
            self._conn.execute(
                select(func.count()).where(reconciliation_invoices.c.state == "held")
            ).scalar_one()
        )

    def latest_finished(self) -> list[RunRecord]:
        """Each tenant's most recently finished run (for ``/metrics``)."""
        t = reconciliation_runs
        newest = (
            select(t.c.tenant_id, func.max(t.c.finished_us).label("at"))
            .where(t.c.finished_us.is_not(None))
            .group_by(t.c.tenant_id)
            .subquery()
        )
        rows = self._conn.execute(
            select(t).join(
                newest, (t.c.tenant_id == newest.c.tenant_id) & (t.c.finished_us == newest.c.at)
            )
        )
        return [_run(r) for r in rows]


def _dec(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
