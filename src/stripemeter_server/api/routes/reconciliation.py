"""Reconciliation (``/v1/reconciliation``): start runs, read them (summary, paged lines, CSV),
the history, the invoice gate's setting and its verdicts. Tenant-scoped: another tenant's run
is a 404. A run answers at once (``202``) and executes as a job, claimed through the database
(in this process right after the answer, or by any ``stripemeter worker``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Path, Query
from fastapi.responses import StreamingResponse

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import reconciliation as reconciliation_wire
from stripemeter_server.config import reconcile_policy
from stripemeter_server.domain.bounded import MAX_SEQUENCE
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.reconciliation import runs
from stripemeter_server.service.reconciliation.engine import execute
from stripemeter_server.service.reconciliation.gate import (
    AGREED,
    HELD,
    RELEASED,
    REPORTED,
    gate_setting,
    put_gate_setting,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["reconciliation"])
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The run's lines as CSV (streamed)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
VERDICT_STATES = frozenset({AGREED, HELD, RELEASED, REPORTED})
RUN_ID = Path(alias="run_id", max_length=64, pattern=r"^[A-Za-z0-9_]+$")


def _background(state: AppState, tenant: str, run_id: str) -> None:
    """Execute the run after the answer (never raises: a failed run says why)."""
    try:
        execute(state.ctx, tenant, run_id, reconcile_policy(state.settings))
    except Exception:  # recorded on the run as failed; the worker loop may take it over
        log.exception("reconciliation run %s (tenant %s) failed", run_id, tenant)


@router.post(
    "/v1/reconciliation/runs",
    openapi_extra=reconciliation_wire.RUN,
    status_code=202,
    responses=reconciliation_wire.RUN_ANSWER,
    summary="Start a reconciliation run (executes as a job; poll it by id)",
)
async def start_run(
    background: BackgroundTasks,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, (body or {}).get("tenantId"))
    scope, repair = reconciliation_wire.parse_run_request(body)
    now = state.ctx.clock.now()
    record = await write(state, who, lambda uow: runs.start_run(uow, scope, repair, now))
    background.add_task(_background, state, who.tenant_id, record.run_id)
    return reconciliation_wire.run_view(record)


@router.get(
    "/v1/reconciliation/runs",
    responses=reconciliation_wire.RUNS_ANSWER,
    summary="Reconciliation runs, newest first",
)
async def list_runs(
    cursor: str | None = Query(None, max_length=90),
    limit: int = Query(50, ge=1, le=runs.MAX_LIMIT),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    page = await read(state, who, lambda uow: runs.list_runs(uow, cursor=cursor, limit=limit))
    return reconciliation_wire.run_list(page)


@router.get(
    "/v1/reconciliation/runs/{run_id}.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSES,
    summary="A run's lines as CSV",
)
async def run_csv(
    run_id: str = RUN_ID,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> StreamingResponse:
    await read(state, who, lambda uow: runs.get_run(uow, run_id))
    pages = runs.line_pages(state.ctx.store.unit_of_work, who.tenant_id, run_id)
    chunks = reconciliation_wire.csv_chunks(pages)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'},
    )


@router.get(
    "/v1/reconciliation/runs/{run_id}",
    responses=reconciliation_wire.RUN_LINES_ANSWER,
    summary="A run: summary (per-metric totals, counts per status, progress) and lines",
)
async def get_run(
    run_id: str = RUN_ID,
    status: str | None = Query(
        None,
        max_length=24,
        description="ok | pending | drift | missing_in_stripe | missing_locally",
    ),
    cursor: str | None = Query(None, max_length=19, description="the nextCursor of the last page"),
    limit: int = Query(100, ge=1, le=runs.MAX_LIMIT),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    found = await read(
        state,
        who,
        lambda uow: runs.run_with_lines(uow, run_id, status=status, after=cursor, limit=limit),
    )
    return reconciliation_wire.run_with_lines(found)


@router.get(
    "/v1/reconciliation/settings",
    summary="The invoice gate and the schedule's lead",
    responses=reconciliation_wire.GATE_ANSWER,
)
async def get_settings(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    lead = state.settings.reconcile_lead_seconds
    return reconciliation_wire.gate_view(
        await read(state, who, lambda uow: gate_setting(uow, lead))
    )


@router.put(
    "/v1/reconciliation/settings",
    openapi_extra=reconciliation_wire.GATE,
    responses=reconciliation_wire.GATE_ANSWER,
    summary="Set the invoice gate (off | report | hold) and the schedule's lead",
)
async def put_settings(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    change = reconciliation_wire.parse_gate_change(body)
    now, lead = state.ctx.clock.now(), state.settings.reconcile_lead_seconds
    setting = await write(state, who, lambda uow: put_gate_setting(uow, change, now, lead))
    return reconciliation_wire.gate_view(setting)


@router.get(
    "/v1/reconciliation/invoices",
    responses=reconciliation_wire.VERDICTS_ANSWER,
    summary="The invoice gate's verdicts on draft invoices (newest first)",
)
async def list_verdicts(
    state_filter: str | None = Query(
        None, alias="state", max_length=16, description="agreed | held | reported | released"
    ),
    limit: int = Query(100, ge=1, le=MAX_SEQUENCE),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    if state_filter is not None and state_filter not in VERDICT_STATES:
        raise ValidationError(
            "state must be one of: agreed, held, released, reported",
            code="invalid_field",
            field="state",
        )
    found = await read(state, who, lambda uow: runs.verdicts(uow, state=state_filter, limit=limit))
    return reconciliation_wire.verdict_list(found)
