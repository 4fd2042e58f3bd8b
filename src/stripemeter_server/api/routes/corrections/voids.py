"""Void by body: any key ingest accepted, whatever characters it holds (no URL encoding)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from stripemeter_server.api.deps import AppState, app_state, require, write
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas.corrections import void_json
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.adjustments import void_event
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["events"])


@router.post(
    "/v1/events/void",
    openapi_extra=corrections_wire.VOID,
    summary="Void an event by its idempotencyKey (in the body)",
    responses=corrections_wire.VOID_ANSWER,
)
async def void_by_body(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(corrections_wire.VOID_SHAPE, body)
    key = body.get("idempotencyKey")
    if not isinstance(key, str) or not key:
        raise ValidationError(
            "idempotencyKey is required", code="missing_field", field="idempotencyKey"
        )
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: void_event(uow, key, now))
    return void_json(key)
