"""Reconciliation runs as the API and the CLI see them: start one, read one (summary and
keyset-paged lines), the history, the CSV export, and the gate's verdicts."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.bounded import check_identifier, parse_sequence
from stripemeter_server.domain.csv_cells import safe_row
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.reconciliation import LineStatus, needs_attention
from stripemeter_server.domain.reconciliation_scope import parse_period_selector
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.catalog.metrics import require_metric
from stripemeter_server.service.reconciliation.plan import RunScope, in_scope_mappings
from stripemeter_server.service.reconciliation.ports import GateVerdict, LineRecord, RunRecord
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork

MAX_LIMIT = 1000
_RUN_ID = re.compile(r"[A-Za-z0-9_]{1,64}", re.ASCII)
CSV_PAGE = 1000
STATUSES = tuple(s.value for s in LineStatus)
_FIELDS = frozenset({"period", "metric", "customerRef", "repair", "tenantId"})
CSV_COLUMNS = (
    "lineNo",
    "customerRef",
    "metric",
    "mode",
    "periodStart",
    "periodEnd",
    "local",
    "pushed",
    "stripe",
    "absoluteDrift",
    "relativeDrift",
    "status",
    "moneyAtStake",
    "currency",
    "invoiceId",
    "expectedAmount",
    "stripeAmount",
    "action",
    "statusAfter",
    "note",
)


def new_run_id() -> str:
    return f"rcn_{uuid.uuid4().hex[:24]}"


def parse_scope(body: object) -> tuple[RunScope, bool]:
    """``{period?, metric?, customerRef?, repair?}``, each through a bounded parser."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(
            f"unknown field: {unknown[0]}", code="unknown_field", field=unknown[0]
        )
    metric = body.get("metric")
    customer = body.get("customerRef")
    repair = body.get("repair", False)
    if not isinstance(repair, bool):
        raise ValidationError("repair must be true or false", code="invalid_field", field="repair")
    return RunScope(
        metric=None if metric is None else check_identifier(metric, "metric"),
        customer_ref=None if customer is None else check_identifier(customer, "customerRef"),
        selector=parse_period_selector(body.get("period")),
    ), repair


def start_run(
    uow: UnitOfWork,
    scope: RunScope,
    repair: bool,
    now: datetime,
    *,
    trigger: str = "manual",
    run_id: str | None = None,
) -> RunRecord:
    """Queue a run (it executes as a job); the metric must exist and be mapped."""
    if scope.metric is not None:
        require_metric(uow, scope.metric)
    in_scope_mappings(uow, scope)
    ident = run_id or new_run_id()
    uow.reconciliation.create_run(
        ident, trigger=trigger, filters=scope.to_json(), repair=repair, now_us=to_micros(now)
    )
    found = uow.reconciliation.get_run(ident)
    assert found is not None
    return found


def _when(us: int | None) -> str | None:
    return None if us is None else format_timestamp(from_micros(us))


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else to_plain_string(value)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def run_view(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "trigger": run.trigger,
        "status": run.status,
        "repair": run.repair,
        "filters": json.loads(run.filters),
        "progress": {"done": run.progress_done, "total": run.progress_total},
        "createdAt": _when(run.created_us),
        "startedAt": _when(run.started_us),
        "finishedAt": _when(run.finished_us),
        "error": run.error,
        "summary": None if run.summary is None else json.loads(run.summary),
    }


def line_view(line: LineRecord) -> dict[str, Any]:
    return {
        "lineNo": line.line_no,
        "customerRef": line.customer_ref,
        "metric": line.metric,
        "mode": line.mode,
        "periodStart": _when(line.period_start_us),
        "periodEnd": _when(line.period_end_us),
        "local": _dec(line.local_value),
        "pushed": _dec(line.pushed_value),
        "stripe": _dec(line.stripe_value),
        "absoluteDrift": _dec(line.absolute_drift),
        "relativeDrift": _dec(line.relative_drift),
        "status": line.status,
        "moneyAtStake": _money(line.money_at_stake),
        "currency": line.currency,
        "invoiceId": line.invoice_id,
        "expectedAmount": _money(line.expected_amount),
        "stripeAmount": _money(line.stripe_amount),
        "action": line.action,
        "statusAfter": line.status_after,
        "note": line.note,
    }


def get_run(uow: UnitOfWork, run_id: str) -> RunRecord:
    run = uow.reconciliation.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no reconciliation run {run_id!r}", code="run_not_found", field="id")
    return run


def _status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise ValidationError(
            f"status must be one of: {', '.join(STATUSES)}", code="invalid_field", field="status"
        )
    return status


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be from 1 to {MAX_LIMIT}", code="invalid_field", field="limit"
        )
    return limit


def run_with_lines(
    uow: UnitOfWork, run_id: str, *, status: str | None, after: str | None, limit: int
) -> dict[str, Any]:
    """The run's summary and one keyset page of its lines (``nextCursor`` = a line number)."""
    run = get_run(uow, run_id)
    start = 0 if after is None else parse_sequence(after, "cursor")
    lines = uow.reconciliation.lines(
        run_id, after=start, limit=_limit(limit) + 1, status=_status(status)
    )
    page = lines[:limit]
    return {
        **run_view(run),
        "lines": [line_view(x) for x in page],
        "nextCursor": str(page[-1].line_no) if len(lines) > limit else None,
    }


def lines_needing_attention(
    uow: UnitOfWork, run_id: str, shown: int
) -> tuple[list[LineRecord], int]:
    """Up to ``shown`` lines an operator should look at, and how many stay unresolved."""
    lines = [
        x for x in uow.reconciliation.lines(run_id, limit=100_000) if needs_attention(x.status)
    ][:shown]
    return lines, uow.reconciliation.unresolved_count(run_id)


def verdicts(uow: UnitOfWork, *, state: str | None, limit: int) -> list[GateVerdict]:
    """The newest invoice-gate verdicts, optionally of one state."""
    return uow.reconciliation.verdicts(state=state, limit=min(limit, MAX_LIMIT))


def _run_cursor(cursor: str | None) -> tuple[int, str] | None:
    """``{created µs}.{run id}`` as this API returned it; anything else names the field."""
    if cursor is None:
        return None
    head, _, tail = cursor.partition(".")
    if not _RUN_ID.fullmatch(tail):
        raise ValidationError(
            "cursor is not one this API returned", code="invalid_cursor", field="cursor"
        )
    return parse_sequence(head, "cursor"), tail


def list_runs(uow: UnitOfWork, *, cursor: str | None, limit: int) -> dict[str, Any]:
    """Newest first, keyset-paged (``nextCursor``)."""
    runs = uow.reconciliation.list_runs(before=_run_cursor(cursor), limit=_limit(limit) + 1)
    page = runs[:limit]
    last = page[-1] if page else None
    return {
        "data": [run_view(r) for r in page],
        "nextCursor": f"{last.created_us}.{last.run_id}" if last and len(runs) > limit else None,
    }


def csv_chunks(store_uow: Any, tenant: str, run_id: str) -> Iterator[str]:
    """The run's lines as CSV, one page (one short read transaction) at a time; every cell
    spreadsheet-safe (``domain/csv_cells.py``)."""
    with store_uow(tenant, read_only=True) as uow:
        get_run(uow, run_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(CSV_COLUMNS))
    yield buffer.getvalue()
    after = 0
    while True:
        with store_uow(tenant, read_only=True) as uow:
            lines = uow.reconciliation.lines(run_id, after=after, limit=CSV_PAGE)
        if not lines:
            return
        buffer.seek(0)
        buffer.truncate()
        for line in lines:
            view = line_view(line)
            writer.writerow(safe_row("" if view[c] is None else view[c] for c in CSV_COLUMNS))
        yield buffer.getvalue()
        after = lines[-1].line_no


def verdict_view(verdict: GateVerdict) -> dict[str, Any]:
    return {
        "invoiceId": verdict.invoice_id,
        "customerRef": verdict.customer_ref,
        "state": verdict.state,
        "gate": verdict.gate,
        "runId": verdict.run_id,
        "driftLines": verdict.drift_lines,
        "moneyAtStake": _money(verdict.money_at_stake),
        "currency": verdict.currency,
        "firstSeenAt": _when(verdict.created_us),
        "updatedAt": _when(verdict.updated_us),
    }


def latest_results(uow: UnitOfWork) -> tuple[list[RunRecord], int]:
    """For ``/metrics``: each tenant's latest finished run, and invoices held right now."""
    return uow.reconciliation.latest_finished(), uow.reconciliation.held_count()
