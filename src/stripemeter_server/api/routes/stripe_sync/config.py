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
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.stripe_sync import accounts as stripe_accounts
from stripemeter_server.service.stripe_sync import mappings as stripe_mappings
from stripemeter_server.service.stripe_sync import meters as meter_sync

router = APIRouter(tags=["stripe"])


@router.get(
    "/v1/stripe/account",
    responses=stripe_sync_wire.ACCOUNT_ANSWER,
    summary="Show the tenant's Stripe account (never its secrets)",
)
async def get_account(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    env = state.ctx.stripe.environment
    found = await read(state, who, lambda uow: stripe_accounts.account_view(uow, env))
    return stripe_sync_wire.account_view(found)


@router.put(
    "/v1/stripe/account",
    openapi_extra=stripe_sync_wire.ACCOUNT,
    responses=stripe_sync_wire.ACCOUNT_ANSWER,
    summary="Set the tenant's Stripe account (secrets encrypted)",
)
async def put_account(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    change = stripe_sync_wire.parse_account(body, state.ctx.stripe.policy)
    now = state.ctx.clock.now()
    cipher = state.ctx.stripe.cipher
    found = await write(
        state, who, lambda uow: stripe_accounts.set_account(uow, cipher, change, now)
    )
    return stripe_sync_wire.account_view(found)


@router.delete("/v1/stripe/account", status_code=204, summary="Forget the stored Stripe account")
async def delete_account(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: stripe_accounts.delete_account(uow, now))
    return Response(status_code=204)


@router.get(
    "/v1/mappings",
    responses=stripe_sync_wire.MAPPINGS_ANSWER,
    summary="List metric mappings to Stripe",
)
async def list_mappings(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, stripe_mappings.list_mappings)
    return stripe_sync_wire.mapping_list(found)


@router.post(
    "/v1/mappings",
    openapi_extra=stripe_sync_wire.MAPPING,
    status_code=201,
    summary="Create or replace a metric's mapping",
    responses=stripe_sync_wire.MAPPING_ANSWER,
)
async def create_mapping(
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    parsed = stripe_sync_wire.parse_mapping(body)
    now = state.ctx.clock.now()
    mapping, created = await write(
        state, who, lambda uow: stripe_mappings.put_mapping(uow, parsed, now)
    )
    response.status_code = 201 if created else 200
    return stripe_sync_wire.mapping_view(mapping)


@router.get(
    "/v1/mappings/{metric}",
    responses=stripe_sync_wire.MAPPING_READ,
    summary="Get a metric's mapping",
)
async def get_mapping(
    metric: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: stripe_mappings.get_mapping(uow, metric))
    return stripe_sync_wire.mapping_view(found)


@router.put(
    "/v1/mappings/{metric}",
    openapi_extra=stripe_sync_wire.MAPPING,
    summary="Create or replace a metric's mapping",
    responses=stripe_sync_wire.MAPPING_ANSWER,
)
async def put_mapping(
    metric: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    parsed = stripe_sync_wire.parse_mapping(body, metric)
    now = state.ctx.clock.now()
    mapping, created = await write(
        state, who, lambda uow: stripe_mappings.put_mapping(uow, parsed, now)
    )
    response.status_code = 201 if created else 200
    return stripe_sync_wire.mapping_view(mapping)


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
    responses={**STRIPE_PROBLEM_RESPONSES, **stripe_sync_wire.METERS_ANSWER},
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
    return stripe_sync_wire.meter_checks(checks)
