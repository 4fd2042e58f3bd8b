"""Reconciliation runs as the API and the CLI see them: start one, read one (summary and
keyset-paged lines), the history, the lines page by page for an export, and the gate's
verdicts. Records go out typed; the wire shapes are rendered in ``api/schemas``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.domain.bounded import parse_sequence
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.reconciliation import LineStatus, needs_attention
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import require_metric
from stripemeter_server.service.reconciliation.plan import RunScope, in_scope_mappings
from stripemeter_server.service.reconciliation.ports import GateVerdict, LineRecord, RunRecord
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork

MAX_LIMIT = 1000
_RUN_ID = re.compile(r"[A-Za-z0-9_]{1,64}", re.ASCII)
CSV_PAGE = 1000
STATUSES = tuple(s.value for s in LineStatus)


def new_run_id() -> str:
    return f"rcn_{uuid.uuid4().hex[:24]}"


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


@dataclass(frozen=True)
class RunLines:
    """A run and one keyset page of its lines; ``next_cursor`` is a line number."""

    run: RunRecord
    lines: list[LineRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class RunPage:
    """One page of the history, newest first; ``next_cursor`` is ``{created µs}.{run id}``."""

    runs: list[RunRecord]
    next_cursor: str | None


def run_with_lines(
    uow: UnitOfWork, run_id: str, *, status: str | None, after: str | None, limit: int
) -> RunLines:
    """The run's summary and one keyset page of its lines."""
    run = get_run(uow, run_id)
    start = 0 if after is None else parse_sequence(after, "cursor")
    lines = uow.reconciliation.lines(
        run_id, after=start, limit=_limit(limit) + 1, status=_status(status)
    )
    page = lines[:limit]
    return RunLines(run, page, str(page[-1].line_no) if len(lines) > limit else None)


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


def list_runs(uow: UnitOfWork, *, cursor: str | None, limit: int) -> RunPage:
    """Newest first, keyset-paged."""
    runs = uow.reconciliation.list_runs(before=_run_cursor(cursor), limit=_limit(limit) + 1)
    page = runs[:limit]
    last = page[-1] if page else None
    return RunPage(page, f"{last.created_us}.{last.run_id}" if last and len(runs) > limit else None)


def line_pages(store_uow: Any, tenant: str, run_id: str) -> Iterator[list[LineRecord]]:
    """The run's lines, one page (one short read transaction) at a time, for an export that
    streams; the run must exist before the first page is asked for."""
    with store_uow(tenant, read_only=True) as uow:
        get_run(uow, run_id)
    return _pages(store_uow, tenant, run_id)


def _pages(store_uow: Any, tenant: str, run_id: str) -> Iterator[list[LineRecord]]:
    after = 0
    while True:
        with store_uow(tenant, read_only=True) as uow:
            lines = uow.reconciliation.lines(run_id, after=after, limit=CSV_PAGE)
        if not lines:
            return
        yield lines
        after = lines[-1].line_no


def latest_results(uow: UnitOfWork) -> tuple[list[RunRecord], int]:
    """For ``/metrics``: each tenant's latest finished run, and invoices held right now."""
    return uow.reconciliation.latest_finished(), uow.reconciliation.held_count()
