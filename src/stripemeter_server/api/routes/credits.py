"""Prepaid credit: grants (create, void, list with remaining) and the live balance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import credits as credits_wire
from stripemeter_server.api.schemas.credits import credits_json, grant_json
from stripemeter_server.domain.credit_parsing import credit_grant_from_dict
from stripemeter_server.service.credits import balance as credit_balance
from stripemeter_server.service.credits import grants as credit_grants
from stripemeter_server.service.credits.burn import burn_down
from stripemeter_server.service.operations.tenancy import Principal

__all__ = ["credits_json", "router"]  # the dashboard and the portal show the same

router = APIRouter(tags=["credits"])


@router.post(
    "/v1/customers/{customer_ref}/credit-grants",
    openapi_extra=credits_wire.CREDIT_GRANT,
    status_code=201,
    summary="Grant prepaid credit (money or units; idempotent)",
    responses=credits_wire.GRANT_CREATED,
)
async def create_grant(
    customer_ref: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    now = state.ctx.clock.now()
    command = credit_grant_from_dict(credit_grants.new_grant_id(), customer_ref, body, now)
    grant, created = await write(
        state, who, lambda uow: credit_grants.create_grant(uow, command, now)
    )
    if not created:
        response.status_code = 200
    return grant_json(grant)


@router.get(
    "/v1/customers/{customer_ref}/credit-grants",
    summary="The customer's credit grants with what each has left",
    responses=credits_wire.GRANT_LIST,
)
async def list_grants(
    customer_ref: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    current = await read(state, who, lambda uow: burn_down(uow, customer_ref, now))
    return credits_wire.grants_json(credit_balance.grant_states(current), now)


@router.post(
    "/v1/customers/{customer_ref}/credit-grants/{grant_id}/void",
    summary="Void a credit grant from now on (what it gave stays given)",
    responses=credits_wire.GRANT_ANSWER,
)
async def void_grant(
    customer_ref: str,
    grant_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    grant = await write(
        state, who, lambda uow: credit_grants.void_grant(uow, customer_ref, grant_id, now)
    )
    return grant_json(grant)


@router.get(
    "/v1/customers/{customer_ref}/credits",
    summary="Credit balance per currency, per-grant remaining, burn rate, run-out",
    responses=credits_wire.CREDITS,
)
async def get_credits(
    customer_ref: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    summary = await read(
        state, who, lambda uow: credit_balance.credit_summary(uow, customer_ref, now)
    )
    return credits_json(summary)
