"""In-memory reconciliation: the gate setting, runs claimed with a lease, their lines, the
gate's verdicts, and the ledger-side facts a run reads (ADR 0026).

Mirrors ``storage/reconciliation/``: a run is created once per id; ``claim_run`` takes a
queued run, or a running one whose lease lapsed, and keeps its first start time; totals
sum per metric and status as the SQL aggregate does (``None`` when every value is null);
the customers a run walks are those with a counter ending after the bound, and the
registered ones, in ``customer_ref`` order. ``held_count`` and ``latest_finished`` read
every tenant, as ``/metrics`` does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from stripemeter_server.service.invoicing.ports import InvoiceItemRecord
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.reconciliation.ports import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    FactKey,
    GateSetting,
    GateVerdict,
    LineRecord,
    MetricTotals,
    RunRecord,
    UnsentPush,
)
from stripemeter_server.service.stripe_sync.ports.pushes import UNSENT
from tests.support.fake_invoicing import InvoicingTables
from tests.support.fake_repos import LedgerTables
from tests.support.fake_stripe_sync import StripeTables


@dataclass
class ReconciliationTables:
    """One tenant's reconciliation rows."""

    gate: dict[str, GateSetting] = field(default_factory=dict)  # "" → the one
    runs: dict[str, RunRecord] = field(default_factory=dict)
    leases: dict[str, int | None] = field(default_factory=dict)  # run id → lease_until_us
    lines: dict[str, dict[int, LineRecord]] = field(default_factory=dict)
    verdicts: dict[str, GateVerdict] = field(default_factory=dict)


@dataclass(frozen=True)
class TenantSlices:
    """The other tables of one tenant that reconciliation reads."""

    ledger: LedgerTables
    stripe: StripeTables
    invoicing: InvoicingTables
    customers: Callable[[], Iterable[str]]  # the registered customer refs


class FakeReconciliationFacts:
    def __init__(self, slices: TenantSlices) -> None:
        self._s = slices

    def counters(
        self, metric: str, customers: Sequence[str], min_end_us: int
    ) -> dict[FactKey, StoredCounter]:
        wanted = set(customers)
        return {
            (c.customer_ref, c.period_start_us): copy.deepcopy(c)
            for c in self._s.ledger.counters.values()
            if c.metric == metric and c.customer_ref in wanted and c.period_end_us > min_end_us
        }

    def unsent_pushes(self, metric: str, customers: Sequence[str]) -> dict[FactKey, UnsentPush]:
        wanted = set(customers)
        return {
            (r.customer_ref, r.period_start_us): UnsentPush(
                r.push_id, r.status, r.last_error_code, r.value, r.pushed_after
            )
            for r in self._s.stripe.outbox.values()
            if r.metric == metric and r.customer_ref in wanted and r.status in UNSENT
        }

    def invoice_items(
        self, metric: str, customers: Sequence[str]
    ) -> dict[FactKey, InvoiceItemRecord]:
        wanted = set(customers)
        return {
            (i.customer_ref, i.period_start_us): i
            for i in self._s.invoicing.items.values()
            if i.metric == metric and i.customer_ref in wanted
        }

    def credit_items(self, customers: Sequence[str], min_end_us: int) -> list[InvoiceItemRecord]:
        wanted = set(customers)
        return sorted(
            (
                i
                for i in self._s.invoicing.items.values()
                if i.metric.startswith("credit:")
                and i.customer_ref in wanted
                and i.period_end_us >= min_end_us
            ),
            key=lambda i: (i.customer_ref, i.period_start_us, i.metric),
        )

    def invoice_statuses(self, invoice_ids: Sequence[str]) -> dict[str, str]:
        invoices = self._s.invoicing.invoices
        return {i: invoices[i].status for i in set(invoice_ids) if i in invoices}


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


class FakeReconciliation:
    """``ReconciliationRepository`` over one tenant's tables."""

    def __init__(
        self,
        tables: ReconciliationTables,
        slices: TenantSlices,
        tenant_id: str,
        everyone: Callable[[], Mapping[str, ReconciliationTables]],
    ) -> None:
        self._t = tables
        self._s = slices
        self._tenant = tenant_id
        self._everyone = everyone
        self.facts = FakeReconciliationFacts(slices)

    # --- the gate setting ---------------------------------------------------------------

    def gate(self) -> GateSetting | None:
        return self._t.gate.get("")

    def put_gate(self, setting: GateSetting, now_us: int) -> None:
        self._t.gate[""] = setting

    # --- runs ---------------------------------------------------------------------------

    def create_run(
        self, run_id: str, *, trigger: str, filters: str, repair: bool, now_us: int
    ) -> bool:
        if run_id in self._t.runs:
            return False
        self._t.runs[run_id] = RunRecord(
            run_id, self._tenant, trigger, filters, repair, QUEUED, 0, None, None, None, now_us,
            None, None,
        )  # fmt: skip
        self._t.leases[run_id] = None
        return True

    def get_run(self, run_id: str) -> RunRecord | None:
        return self._t.runs.get(run_id)

    def list_runs(self, *, before: tuple[int, str] | None, limit: int) -> list[RunRecord]:
        runs = [
            r for r in self._t.runs.values() if before is None or (r.created_us, r.run_id) < before
        ]
        return sorted(runs, key=lambda r: (r.created_us, r.run_id), reverse=True)[:limit]

    def claim_run(self, run_id: str, now_us: int, lease_us: int) -> RunRecord | None:
        run = self._t.runs.get(run_id)
        if run is None or run.status in (DONE, FAILED):
            return None
        if run.status == RUNNING and (self._t.leases.get(run_id) or 0) > now_us:
            return None
        claimed = replace(run, status=RUNNING, started_us=run.started_us or now_us)
        self._t.runs[run_id] = claimed
        self._t.leases[run_id] = now_us + lease_us
        return claimed

    def queued_runs(self, limit: int) -> list[tuple[str, str]]:
        waiting = sorted(
            (r for r in self._t.runs.values() if r.status in (QUEUED, RUNNING)),
            key=lambda r: (r.created_us, r.run_id),
        )
        return [(r.tenant_id, r.run_id) for r in waiting[:limit]]

    def progress(self, run_id: str, done: int, total: int | None, lease_until_us: int) -> None:
        if run_id in self._t.runs:
            run = self._t.runs[run_id]
            self._t.runs[run_id] = replace(run, progress_done=done, progress_total=total)
            self._t.leases[run_id] = lease_until_us

    def finish(
        self, run_id: str, *, status: str, summary: str | None, error: str | None, now_us: int
    ) -> None:
        if run_id in self._t.runs:
            run = self._t.runs[run_id]
            self._t.runs[run_id] = replace(
                run, status=status, summary=summary, error=error, finished_us=now_us
            )
            self._t.leases[run_id] = None

    # --- lines --------------------------------------------------------------------------

    def add_lines(self, run_id: str, lines: Sequence[LineRecord]) -> None:
        kept = self._t.lines.setdefault(run_id, {})
        for line in lines:
            if line.line_no in kept:
                raise KeyError(f"duplicate line {line.line_no}")  # the primary key
            kept[line.line_no] = line

    def delete_lines(self, run_id: str) -> None:
        self._t.lines.pop(run_id, None)

    def line_count(self, run_id: str) -> int:
        return len(self._t.lines.get(run_id, {}))

    def lines(
        self, run_id: str, *, after: int = 0, limit: int = 500, status: str | None = None
    ) -> list[LineRecord]:
        kept = self._t.lines.get(run_id, {})
        return [
            kept[n]
            for n in sorted(kept)
            if n > after and (status is None or kept[n].status == status)
        ][:limit]

    def set_action(
        self,
        run_id: str,
        line_no: int,
        action: str,
        note: str | None,
        status_after: str | None = None,
    ) -> None:
        kept = self._t.lines.get(run_id, {})
        if line_no in kept:
            kept[line_no] = replace(
                kept[line_no], action=action, note=note, status_after=status_after
            )

    def totals(self, run_id: str) -> list[MetricTotals]:
        groups: dict[tuple[str, str], list[LineRecord]] = {}
        for line in self._t.lines.get(run_id, {}).values():
            groups.setdefault((line.metric, line.status), []).append(line)
        return [
            MetricTotals(
                metric,
                status,
                len(rows),
                _sum(r.local_value for r in rows),
                _sum(r.stripe_value for r in rows),
                _sum(abs(r.absolute_drift) for r in rows),
                _sum(r.money_at_stake for r in rows),
            )
            for (metric, status), rows in sorted(groups.items())
        ]

    def unresolved_count(self, run_id: str) -> int:
        settled = ("ok", "pending")
        return sum(
            1
            for line in self._t.lines.get(run_id, {}).values()
            if line.status not in settled
            and (line.status_after is None or line.status_after not in settled)
        )

    # --- the customers a run walks ------------------------------------------------------

    def _customers(self, min_end_us: int) -> list[str]:
        used = {
            c.customer_ref for c in self._s.ledger.counters.values() if c.period_end_us > min_end_us
        }
        return sorted(used | set(self._s.customers()))

    def customer_count(self, min_end_us: int) -> int:
        return len(self._customers(min_end_us))

    def customer_page(self, *, after: str | None, limit: int, min_end_us: int) -> list[str]:
        refs = self._customers(min_end_us)
        return [r for r in refs if after is None or r > after][:limit]

    # --- the invoice gate's verdicts ----------------------------------------------------

    def verdict(self, invoice_id: str) -> GateVerdict | None:
        return self._t.verdicts.get(invoice_id)

    def put_verdict(self, verdict: GateVerdict) -> None:
        kept = self._t.verdicts.get(verdict.invoice_id)
        if kept is not None:
            verdict = replace(verdict, created_us=kept.created_us)
        self._t.verdicts[verdict.invoice_id] = verdict

    def verdicts(self, *, state: str | None = None, limit: int = 100) -> list[GateVerdict]:
        found = [v for v in self._t.verdicts.values() if state is None or v.state == state]
        return sorted(found, key=lambda v: v.updated_us, reverse=True)[:limit]

    def held_count(self) -> int:
        return sum(
            1 for t in self._everyone().values() for v in t.verdicts.values() if v.state == "held"
        )

    def latest_finished(self) -> list[RunRecord]:
        latest = []
        for tables in self._everyone().values():
            finished = [r for r in tables.runs.values() if r.finished_us is not None]
            newest = max((r.finished_us or 0 for r in finished), default=None)
            latest += [r for r in finished if r.finished_us == newest]
        return latest
