"""Prepaid credit: grants (create, void, list with remaining) and the live balance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import credits as credits_wire
from stripemeter_server.api.serialize import dec, ts
from stripemeter_server.domain.credit_parsing import credit_grant_to_dict
from stripemeter_server.domain.credits import UNIT_PREFIX
from stripemeter_server.service.credits import balance as credit_balance
from stripemeter_server.service.credits import grants as credit_grants
from stripemeter_server.service.credits.burn import burn_down
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["credits"])

GRANT_EXAMPLE = {
    "amount": "100.00",
    "currency": "usd",
    "category": "paid",
    "priority": 10,
    "effectiveAt": "2025-01-01T00:00:00Z",
    "expiresAt": "2026-01-01T00:00:00Z",
    "appliesTo": ["tokens"],
    "idempotencyKey": "topup-2025-01",
}


def _denomination(denomination: str) -> dict[str, str | None]:
    if denomination.startswith(UNIT_PREFIX):
        return {"currency": None, "unit": denomination.removeprefix(UNIT_PREFIX)}
    return {"currency": denomination, "unit": None}


def _grant_state_json(state: credit_balance.GrantState) -> dict[str, Any]:
    return {
        **credit_grant_to_dict(state.grant),
        "drawn": dec(state.drawn),
        "remaining": dec(state.remaining),
        "status": state.status,
    }


@router.post(
    "/v1/customers/{customer_ref}/credit-grants",
    openapi_extra=credits_wire.CREDIT_GRANT,
    status_code=201,
    summary="Grant prepaid credit (money or units; idempotent)",
    responses={200: {"description": "The same idempotencyKey was granted before"}},
)
async def create_grant(
    customer_ref: str,
    response: Response,
    body: dict[str, Any] = Body(examples=[GRANT_EXAMPLE]),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    now = state.ctx.clock.now()
    grant, created = await write(
        state, who, lambda uow: credit_grants.create_grant(uow, customer_ref, body, now)
    )
    if not created:
        response.status_code = 200
    return credit_grant_to_dict(grant)


@router.get(
    "/v1/customers/{customer_ref}/credit-grants",
    summary="The customer's credit grants with what each has left",
)
async def list_grants(
    customer_ref: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    current = await read(state, who, lambda uow: burn_down(uow, customer_ref, now))
    return {
        "data": [_grant_state_json(s) for s in credit_balance.grant_states(current)],
        "asOf": ts(now),
    }


@router.post(
    "/v1/customers/{customer_ref}/credit-grants/{grant_id}/void",
    summary="Void a credit grant from now on (what it gave stays given)",
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
    return credit_grant_to_dict(grant)


@router.get(
    "/v1/customers/{customer_ref}/credits",
    summary="Credit balance per currency, per-grant remaining, burn rate, run-out",
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


def credits_json(summary: credit_balance.CreditSummary) -> dict[str, Any]:
    """The balance's JSON shape (the dashboard shows the same)."""
    return {
        "customerRef": summary.customer_ref,
        "asOf": ts(summary.as_of),
        "balances": [
            {
                **_denomination(b.denomination),
                "balance": dec(b.balance),
                "burnedLastDay": dec(b.burned_last_day),
                "burnedLastWeek": dec(b.burned_last_week),
                "dailyBurnRate": dec(b.daily_rate),
                "projectedRunOut": ts(b.projected_run_out),
            }
            for b in summary.balances
        ],
        "grants": [_grant_state_json(s) for s in summary.grants],
    }
