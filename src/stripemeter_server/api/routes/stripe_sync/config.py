"""The tenant's Stripe account (``/v1/stripe/account``) and metric mappings (``/v1/mappings``).

Secrets go in and never come out: the account view shows whether it is configured, the
mode and the key's last four characters.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.openapi import STRIPE_PROBLEM_RESPONSES
from stripemeter_server.api.schemas import stripe_sync as stripe_sync_wire
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.stripe_mapping import mapping_to_dict
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.stripe_sync import accounts as stripe_accounts
from stripemeter_server.service.stripe_sync import mappings as stripe_mappings
from stripemeter_server.service.stripe_sync import meters as meter_sync

router = APIRouter(tags=["stripe"])

MAPPING_EXAMPLE = {
    "metric": "api_calls",
    "mode": "meter_events",
    "meterEventName": "api_calls",
    "transport": "v1",
    "precision": 0,
}


@router.get("/v1/stripe/account", summary="Show the tenant's Stripe account (never its secrets)")
async def get_account(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    env = state.ctx.stripe.environment
    return await read(state, who, lambda uow: stripe_accounts.account_view(uow, env))


@router.put(
    "/v1/stripe/account",
    openapi_extra=stripe_sync_wire.ACCOUNT,
    summary="Set the tenant's Stripe account (secrets encrypted)",
)
async def put_account(
    body: dict[str, Any] = Body(
        examples=[
            {
                "secretKey": "sk_test_…",
                "webhookSecret": "whsec_…",
                "webhookSecretGraceSeconds": 86400,
            }
        ]
    ),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    change = stripe_accounts.parse_account(body, state.ctx.stripe.policy)
    now = state.ctx.clock.now()
    cipher = state.ctx.stripe.cipher
    return await write(
        state, who, lambda uow: stripe_accounts.set_account(uow, cipher, change, now)
    )


@router.delete("/v1/stripe/account", status_code=204, summary="Forget the stored Stripe account")
async def delete_account(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: stripe_accounts.delete_account(uow, now))
    return Response(status_code=204)


@router.get("/v1/mappings", summary="List metric mappings to Stripe")
async def list_mappings(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, stripe_mappings.list_mappings)
    return {"data": [mapping_to_dict(m) for m in found]}


@router.post(
    "/v1/mappings",
    openapi_extra=stripe_sync_wire.MAPPING,
    status_code=201,
    summary="Create or replace a metric's mapping",
    responses={200: {"description": "Replaced the metric's existing mapping"}},
)
async def create_mapping(
    response: Response,
    body: dict[str, Any] = Body(examples=[MAPPING_EXAMPLE]),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    now = state.ctx.clock.now()
    mapping, created = await write(
        state, who, lambda uow: stripe_mappings.put_mapping(uow, body, now)
    )
    response.status_code = 201 if created else 200
    return mapping_to_dict(mapping)


@router.get("/v1/mappings/{metric}", summary="Get a metric's mapping")
async def get_mapping(
    metric: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: stripe_mappings.get_mapping(uow, metric))
    return mapping_to_dict(found)


@router.put(
    "/v1/mappings/{metric}",
    openapi_extra=stripe_sync_wire.MAPPING,
    summary="Create or replace a metric's mapping",
    responses={201: {"description": "Created (200 when it replaced a mapping)"}},
)
async def put_mapping(
    metric: str,
    response: Response,
    body: dict[str, Any] = Body(examples=[MAPPING_EXAMPLE]),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    if "metric" in body and body["metric"] != metric:
        raise ValidationError(
            "metric in the body differs from the path", code="invalid_field", field="metric"
        )
    body = {k: v for k, v in body.items() if k != "metric"}
    now = state.ctx.clock.now()
    mapping, created = await write(
        state, who, lambda uow: stripe_mappings.put_mapping(uow, body, now, metric=metric)
    )
    response.status_code = 201 if created else 200
    return mapping_to_dict(mapping)


@router.delete("/v1/mappings/{metric}", status_code=204, summary="Delete a metric's mapping")
async def delete_mapping(
    metric: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: stripe_mappings.delete_mapping(uow, metric, now))
    return Response(status_code=204)


@router.post(
    "/v1/stripe/meters/sync",
    summary="Create or check the Stripe meter of every meter_events mapping",
    responses=STRIPE_PROBLEM_RESPONSES,
)
async def sync_meters(
    check: bool = False,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    """``check=true`` only reports; otherwise missing meters are created. A mapping whose
    existing meter cannot hold the pushes is ``refused`` with the reason."""
    checks = await run_in_threadpool(
        meter_sync.sync_tenant_meters, state.ctx, who.tenant_id, create=not check
    )
    return {
        "data": [
            {
                "metric": c.metric,
                "meterEventName": c.event_name,
                "formula": c.formula,
                "status": c.status,
                "meterId": c.meter_id,
                "reason": c.reason,
            }
            for c in checks
        ]
    }
