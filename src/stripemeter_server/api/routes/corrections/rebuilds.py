"""Rebuild by API: a job that answers when done within ``waitSeconds``, else is polled."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas.corrections import job_json
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.rebuild_jobs import RUNNING, get_job, submit_rebuild
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["corrections"])
DEFAULT_WAIT_SECONDS = 5
MAX_WAIT_SECONDS = 30


@router.post(
    "/v1/rebuilds",
    openapi_extra=corrections_wire.REBUILD,
    summary="Rebuild counters from the ledger (a job)",
    responses=corrections_wire.REBUILD_STARTED,
)
async def start(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> JSONResponse:
    body = declared(corrections_wire.REBUILD_SHAPE, body)
    check_tenant(who, body.get("tenantId"))
    wait = _wait_seconds(body.get("waitSeconds", DEFAULT_WAIT_SECONDS))
    target = corrections_wire.rebuild_command(body)
    now = state.ctx.clock.now()
    job = await write(state, who, lambda uow: submit_rebuild(uow, target, who.key_id, now))
    done = state.rebuilds.start(state.ctx, who.tenant_id, job)
    await asyncio.to_thread(done.wait, wait)
    current = await _job(state, who, job.job_id)
    running = current["status"] == RUNNING
    return JSONResponse(
        current,
        status_code=202 if running else 200,
        headers={"Location": f"/v1/rebuilds/{job.job_id}"},
    )


@router.get(
    "/v1/rebuilds/{job_id}",
    summary="A rebuild job's status and progress",
    responses=corrections_wire.REBUILD_JOB,
)
async def status(
    job_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    return await _job(state, who, job_id)


async def _job(state: AppState, who: Principal, job_id: str) -> dict[str, Any]:
    job = await read(state, who, lambda uow: get_job(uow, job_id))
    return job_json(job, state.rebuilds.progress(job_id))


def _wait_seconds(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_WAIT_SECONDS:
        raise ValidationError(
            f"waitSeconds must be a whole number 0..{MAX_WAIT_SECONDS}",
            code="invalid_field",
            field="waitSeconds",
        )
    return float(raw)
