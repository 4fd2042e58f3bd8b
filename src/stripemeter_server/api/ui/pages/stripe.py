"""Stripe: the account (never its secret), mappings, pushes (retry a failed one),
reconciliation runs (start, lines with drift, CSV, repair) and the gate's held invoices.
Every call is the one the ``/v1/stripe``, ``/v1/pushes`` and ``/v1/reconciliation`` routes
make."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from stripemeter_server.api.deps import AppState, read, write
from stripemeter_server.api.schemas import reconciliation as reconciliation_wire
from stripemeter_server.api.schemas import stripe_sync as stripe_sync_wire
from stripemeter_server.api.ui.web import (
    Operator,
    UiRoute,
    back_to,
    operator,
    state_of,
    ui_tools,
    writer,
)
from stripemeter_server.config import reconcile_policy
from stripemeter_server.service.dashboard.reads import held_invoices
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.reconciliation import runs
from stripemeter_server.service.reconciliation.engine import execute
from stripemeter_server.service.stripe_sync import accounts as stripe_accounts
from stripemeter_server.service.stripe_sync import mappings as stripe_mappings
from stripemeter_server.service.stripe_sync import pushes

log = logging.getLogger(__name__)
router = APIRouter(route_class=UiRoute)
RUN_ID = Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")
SCOPE_FIELDS = ("period", "metric", "customerRef")
PUSH_ID = Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")


def _stripe_view(
    uow: UnitOfWork, state: AppState, push_status: str | None, cursor: str | None
) -> dict[str, Any]:
    return {
        "account": stripe_sync_wire.account_view(
            stripe_accounts.account_view(uow, state.ctx.stripe.environment)
        ),
        "mappings": stripe_sync_wire.mapping_list(stripe_mappings.list_mappings(uow))["data"],
        "pushes": stripe_sync_wire.push_list(
            pushes.list_pushes(
                uow, status=push_status, metric=None, customer_ref=None, cursor=cursor, limit=50
            )
        ),
        "runs": reconciliation_wire.run_list(runs.list_runs(uow, cursor=None, limit=10))["data"],
        "held": [reconciliation_wire.verdict_view(v) for v in held_invoices(uow)],
    }


@router.get("/ui/stripe")
async def stripe_page(
    request: Request,
    who: Operator = Depends(operator),
    status: str | None = Query(None, max_length=16),
    cursor: str | None = Query(None, max_length=200),
) -> Response:
    state = state_of(request)
    found = await read(state, who.who, lambda uow: _stripe_view(uow, state, status or None, cursor))
    return ui_tools(request).pages.render(
        request,
        "stripe.html",
        status=status or "",
        notice=request.query_params.get("notice"),
        **found,
    )


@router.post("/ui/stripe/pushes/{push_id}/retry")
async def retry(request: Request, push_id: str = PUSH_ID) -> Response:
    who, _ = await writer(request)
    state = state_of(request)
    now = state.ctx.clock.now()
    await write(state, who.who, lambda uow: pushes.retry_push(uow, push_id, now))
    return back_to("/ui/stripe?status=failed", f"Push {push_id} is queued again.")


def _execute(state: AppState, tenant: str, run_id: str) -> None:
    """Execute the run after the answer, as the API does (a failure is kept on the run)."""
    try:
        execute(state.ctx, tenant, run_id, reconcile_policy(state.settings))
    except Exception:
        log.exception("reconciliation run %s (tenant %s) failed", run_id, tenant)


async def _start(
    request: Request, background: BackgroundTasks, who: Operator, body: dict[str, Any]
) -> str:
    state = state_of(request)
    scope, repair = reconciliation_wire.parse_run_request(body)
    now = state.ctx.clock.now()
    record = await write(state, who.who, lambda uow: runs.start_run(uow, scope, repair, now))
    background.add_task(_execute, state, who.tenant_id, record.run_id)
    return record.run_id


@router.post("/ui/stripe/runs")
async def start_run(request: Request, background: BackgroundTasks) -> Response:
    who, form = await writer(request)
    body = {name: form[name] for name in SCOPE_FIELDS if form.get(name)}
    run_id = await _start(request, background, who, body)
    return back_to(f"/ui/stripe/runs/{run_id}", "The run has started.")


@router.post("/ui/stripe/runs/{run_id}/repair")
async def repair_run(
    request: Request, background: BackgroundTasks, run_id: str = RUN_ID
) -> Response:
    who, _ = await writer(request)
    state = state_of(request)
    record = await read(state, who.who, lambda uow: runs.get_run(uow, run_id))
    filters = json.loads(record.filters)
    body = {name: filters[name] for name in SCOPE_FIELDS if filters.get(name) is not None}
    new_id = await _start(request, background, who, {**body, "repair": True})
    return back_to(f"/ui/stripe/runs/{new_id}", "A repair run has started.")


@router.get("/ui/stripe/runs/{run_id}")
async def run_page(
    request: Request,
    run_id: str = RUN_ID,
    who: Operator = Depends(operator),
    status: str | None = Query(None, max_length=24),
    cursor: str | None = Query(None, max_length=19),
) -> Response:
    state = state_of(request)
    found = await read(
        state,
        who.who,
        lambda uow: runs.run_with_lines(
            uow, run_id, status=status or None, after=cursor, limit=100
        ),
    )
    return ui_tools(request).pages.render(
        request,
        "run.html",
        run=reconciliation_wire.run_with_lines(found),
        status=status or "",
        notice=request.query_params.get("notice"),
    )


@router.get("/ui/stripe/runs/{run_id}/lines.csv")
async def run_csv(
    request: Request, run_id: str = RUN_ID, who: Operator = Depends(operator)
) -> StreamingResponse:
    state = state_of(request)
    await read(state, who.who, lambda uow: runs.get_run(uow, run_id))
    pages = runs.line_pages(state.ctx.store.unit_of_work, who.tenant_id, run_id)
    chunks = reconciliation_wire.csv_chunks(pages)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'},
    )
