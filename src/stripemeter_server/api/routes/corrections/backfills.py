"""Backfill sessions: open, ingest with ``backfillId``, close (count) or revert (uncount)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas.corrections import backfill_json, backfills_json
from stripemeter_server.api.wire import declared
from stripemeter_server.service.corrections import backfills as service
from stripemeter_server.service.corrections.approvals import APPROVED, decide_backfill
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["corrections"])
REJECTED = "rejected"


@router.post(
    "/v1/backfills",
    openapi_extra=corrections_wire.BACKFILL,
    status_code=201,
    summary="Open a backfill session",
    responses=corrections_wire.BACKFILL_CREATED,
)
async def open_session(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(corrections_wire.BACKFILL_SHAPE, body)
    check_tenant(who, body.get("tenantId"))
    command = corrections_wire.backfill_command(body)
    now = state.ctx.clock.now()

    def work(uow: Any) -> Any:
        record = service.open_backfill(uow, command, who.key_id, now)
        return service.get_backfill(uow, record.backfill_id)

    return backfill_json(await write(state, who, work))


@router.get(
    "/v1/backfills", summary="List backfill sessions", responses=corrections_wire.BACKFILL_LIST
)
async def list_sessions(
    status: str | None = Query(None, description="open, pending, closed, reverted, rejected"),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: service.list_backfills(uow, status))
    return backfills_json(found)


@router.get(
    "/v1/backfills/{backfill_id}",
    summary="One backfill session with its tallies",
    responses=corrections_wire.BACKFILL_ANSWER,
)
async def get_session(
    backfill_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    view = await read(state, who, lambda uow: service.get_backfill(uow, backfill_id))
    return backfill_json(view)


@router.post(
    "/v1/backfills/{backfill_id}/close",
    summary="Close: the session's events start counting (four-eyes: pending)",
    responses=corrections_wire.BACKFILL_ANSWER,
)
async def close_session(
    backfill_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    view = await write(
        state, who, lambda uow: service.close_backfill(uow, backfill_id, who.key_id, now)
    )
    return backfill_json(view)


@router.post(
    "/v1/backfills/{backfill_id}/revert",
    summary="Revert: the session's events stop counting",
    responses=corrections_wire.BACKFILL_ANSWER,
)
async def revert_session(
    backfill_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    view = await write(
        state, who, lambda uow: service.revert_backfill(uow, backfill_id, who.key_id, now)
    )
    return backfill_json(view)


@router.post(
    "/v1/backfills/{backfill_id}/approve",
    openapi_extra=corrections_wire.DECISION,
    summary="Four-eyes: approve a pending close (another key)",
    responses=corrections_wire.BACKFILL_ANSWER,
)
async def approve_session(
    backfill_id: str,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _decide(backfill_id, APPROVED, body, state, who)


@router.post(
    "/v1/backfills/{backfill_id}/reject",
    openapi_extra=corrections_wire.DECISION,
    summary="Four-eyes: reject a pending close (its events never count)",
    responses=corrections_wire.BACKFILL_ANSWER,
)
async def reject_session(
    backfill_id: str,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _decide(backfill_id, REJECTED, body, state, who)


async def _decide(
    backfill_id: str, decision: str, body: dict[str, Any] | None, state: AppState, who: Principal
) -> dict[str, Any]:
    body = declared(corrections_wire.DECISION_SHAPE, body)
    now = state.ctx.clock.now()
    note = (body or {}).get("note")
    view = await write(
        state,
        who,
        lambda uow: decide_backfill(
            uow, backfill_id, decision, who.key_id, now, note if isinstance(note, str) else None
        ),
    )
    return backfill_json(view)
