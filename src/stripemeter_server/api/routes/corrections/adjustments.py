"""Adjustments: append-only signed deltas with an audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas.corrections import adjustment_json, adjustments_json
from stripemeter_server.api.wire import declared
from stripemeter_server.service.corrections import adjustments as corrections
from stripemeter_server.service.corrections.adjustments import create_adjustment, revert_adjustment
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["adjustments"])


@router.get(
    "/v1/adjustments", summary="List adjustments", responses=corrections_wire.ADJUSTMENT_LIST
)
async def list_adjustments(
    metric: str | None = None,
    customer_ref: str | None = Query(None, alias="customerRef"),
    tenant_id: str | None = Query(None, alias="tenantId"),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    check_tenant(who, tenant_id)
    found = await read(
        state,
        who,
        lambda uow: corrections.list_adjustments(uow, metric=metric, customer_ref=customer_ref),
    )
    return adjustments_json(found)


@router.post(
    "/v1/adjustments",
    openapi_extra=corrections_wire.ADJUSTMENT,
    status_code=201,
    summary="Book an adjustment on an open period",
    responses=corrections_wire.ADJUSTMENT_CREATED,
)
async def create(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(corrections_wire.ADJUSTMENT_SHAPE, body)
    check_tenant(who, body.get("tenantId"))
    command = corrections_wire.adjustment_command_of(body)
    now = state.ctx.clock.now()
    record = await write(
        state, who, lambda uow: create_adjustment(uow, command, actor=who.key_id, now=now)
    )
    return adjustment_json(record)


@router.post(
    "/v1/adjustments/{adjustment_id}/revert",
    status_code=201,
    summary="Revert an adjustment (appends its negative twin)",
    responses=corrections_wire.ADJUSTMENT_CREATED,
)
async def revert(
    adjustment_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    record = await write(
        state, who, lambda uow: revert_adjustment(uow, adjustment_id, who.key_id, now)
    )
    return adjustment_json(record)
