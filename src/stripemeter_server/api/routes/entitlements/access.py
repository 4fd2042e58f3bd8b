"""Entitlement checks: what a customer may use now, from the live counters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require
from stripemeter_server.api.fast_path import fast_route
from stripemeter_server.api.routes.entitlements import hot
from stripemeter_server.api.routes.entitlements.views import access_json, check_json
from stripemeter_server.api.schemas import entitlements as entitlements_wire
from stripemeter_server.api.schemas.entitlement_commands import check_request
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.service.entitlements import access as checks
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["entitlements"])


@router.get(
    "/v1/customers/{customer_ref}/entitlements",
    summary="Every feature and the customer's access to it now",
    responses=entitlements_wire.ACCESS_LIST,
)
async def list_entitlements(
    customer_ref: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    found = await read(state, who, lambda uow: checks.check_all(uow, customer_ref, now))
    return {"data": [access_json(a, customer_ref) for a in found]}  # AccessList


@fast_route(  # ADR 0860
    router,
    "/v1/customers/{customer_ref}/entitlements/{feature}",
    hot.get_entitlement,
    methods=["GET"],
    summary="The customer's access to one feature now (usage, limit, balance)",
    responses=entitlements_wire.ACCESS,
)
async def get_entitlement(
    customer_ref: str,
    feature: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    access = await read(
        state, who, lambda uow: checks.check_feature(uow, customer_ref, feature, now)
    )
    return access_json(access, customer_ref)


@fast_route(  # ADR 0860
    router,
    "/v1/entitlements/check",
    hot.check,
    methods=["POST"],
    openapi_extra=entitlements_wire.CHECK,
    summary="May this quantity be used now? (records nothing)",
    responses=entitlements_wire.CHECK_ANSWER,
)
async def check(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    asked = Parsed.of(lambda: check_request(body))  # refused in the transaction, as hot.check
    now = state.ctx.clock.now()
    answer = await read(state, who, lambda uow: checks.check_quantity(uow, asked.get(), now))
    return check_json(answer.allowed, answer.quantity, answer.access, answer.customer_ref)
