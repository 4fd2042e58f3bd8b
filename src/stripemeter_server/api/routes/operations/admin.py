"""Tenants and API keys (admin scope). Keys are shown once, at creation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import operations as operations_wire
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.bounded import check_text
from stripemeter_server.service.operations import admission, tenancy
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["admin"])


@router.get(
    "/v1/admin/tenants",
    responses=operations_wire.TENANTS_ANSWER,
    summary="The key's own tenant",
)
async def tenants(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    record, limit = await read(
        state, who, lambda uow: admission.tenant_limits(uow, state.rate_defaults)
    )
    return operations_wire.tenant_list(record, limit)


@router.get(
    "/v1/admin/api-keys",
    responses=operations_wire.KEYS_ANSWER,
    summary="List the tenant's API keys (never the secrets)",
)
async def list_keys(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: tenancy.list_keys(uow, who.tenant_id))
    return operations_wire.key_list(found)


@router.post(
    "/v1/admin/api-keys",
    openapi_extra=operations_wire.ISSUE_KEY,
    status_code=201,
    responses=operations_wire.ISSUED_ANSWER,
    summary="Create an API key (shown once)",
)
async def create_key(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(operations_wire.ISSUE_KEY_SHAPE, body)
    check_tenant(who, body.get("tenantId"))
    scopes = tenancy.parse_scopes(body.get("scopes", ["ingest", "read"]))
    label = check_text(body.get("label"), "label", max_length=255)
    now = state.ctx.clock.now()
    issued = await write(
        state, who, lambda uow: tenancy.issue_key(uow, who.tenant_id, scopes, label=label, now=now)
    )
    return operations_wire.issued_view(issued)


@router.post(
    "/v1/admin/api-keys/{key_id}/rotate",
    openapi_extra=operations_wire.ROTATE_KEY,
    status_code=201,
    responses=operations_wire.ROTATED_ANSWER,
    summary="Issue a replacement with the same scopes (shown once); revoke the old key now "
    "or after graceSeconds",
)
async def rotate_key(
    key_id: str,
    body: dict[str, Any] | None = Body(None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(operations_wire.ROTATE_KEY_SHAPE, body)
    grace = tenancy.parse_grace((body or {}).get("graceSeconds"))
    now = state.ctx.clock.now()
    issued = await write(
        state,
        who,
        lambda uow: tenancy.rotate_key(uow, who.tenant_id, key_id, now, grace_seconds=grace),
    )
    return operations_wire.rotated_view(issued, key_id)


@router.delete(
    "/v1/admin/api-keys/{key_id}",
    responses=operations_wire.REVOKED_ANSWER,
    summary="Revoke an API key",
)
async def revoke_key(
    key_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: tenancy.revoke_key(uow, who.tenant_id, key_id, now))
    return operations_wire.revoked_view(key_id)
