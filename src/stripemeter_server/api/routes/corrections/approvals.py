"""Four-eyes mode: the tenant's policy and the decisions on pending adjustments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from stripemeter_server.api.deps import AppState, app_state, read, require, write
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas.corrections import (
    adjustment_json,
    adjustment_with_approval_json,
    policy_json,
)
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.approvals import (
    APPROVED,
    adjustment_with_approval,
    decide_adjustment,
    four_eyes,
    set_four_eyes,
)
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["corrections"])
REJECTED = "rejected"


@router.get(
    "/v1/corrections/policy",
    summary="The tenant's corrections policy (four-eyes)",
    responses=corrections_wire.POLICY_ANSWER,
)
async def get_policy(
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    on = await read(state, who, four_eyes)
    return policy_json(on)


@router.put(
    "/v1/corrections/policy",
    openapi_extra=corrections_wire.POLICY,
    summary="Turn four-eyes mode on or off",
    responses=corrections_wire.POLICY_ANSWER,
)
async def put_policy(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(corrections_wire.POLICY_SHAPE, body)
    on = body.get("fourEyes")
    if not isinstance(on, bool):
        raise ValidationError(
            "fourEyes must be true or false", code="invalid_field", field="fourEyes"
        )
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: set_four_eyes(uow, on, who.key_id, now))
    return policy_json(on)


@router.get(
    "/v1/adjustments/{adjustment_id}",
    summary="One adjustment with its approval",
    responses=corrections_wire.ADJUSTMENT_WITH_APPROVAL,
)
async def get_adjustment(
    adjustment_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    record, approval = await read(
        state, who, lambda uow: adjustment_with_approval(uow, adjustment_id)
    )
    return adjustment_with_approval_json(record, approval)


@router.post(
    "/v1/adjustments/{adjustment_id}/approve",
    openapi_extra=corrections_wire.DECISION,
    summary="Four-eyes: approve a pending adjustment (another key); it counts now",
    responses=corrections_wire.ADJUSTMENT_ANSWER,
)
async def approve(
    adjustment_id: str,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _decide(adjustment_id, APPROVED, body, state, who)


@router.post(
    "/v1/adjustments/{adjustment_id}/reject",
    openapi_extra=corrections_wire.DECISION,
    summary="Four-eyes: reject a pending adjustment; it never counts",
    responses=corrections_wire.ADJUSTMENT_ANSWER,
)
async def reject(
    adjustment_id: str,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _decide(adjustment_id, REJECTED, body, state, who)


async def _decide(
    adjustment_id: str, decision: str, body: dict[str, Any] | None, state: AppState, who: Principal
) -> dict[str, Any]:
    body = declared(corrections_wire.DECISION_SHAPE, body)
    now = state.ctx.clock.now()
    note = (body or {}).get("note")
    record = await write(
        state,
        who,
        lambda uow: decide_adjustment(
            uow, adjustment_id, decision, who.key_id, now, note if isinstance(note, str) else None
        ),
    )
    return adjustment_json(record)
