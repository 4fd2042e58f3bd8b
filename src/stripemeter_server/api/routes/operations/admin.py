"""Tenants and API keys (admin scope). Keys are shown once, at creation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import operations as operations_wire
from stripemeter_server.api.serialize import ts
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.bounded import check_text
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord
from stripemeter_server.service.operations import admission, tenancy
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["admin"])


def key_json(record: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": record.key_id,
        "tenantId": record.tenant_id,
        "prefix": record.prefix,
        "scopes": sorted(record.scopes),
        "label": record.label,
        "createdAt": ts(record.created_us),
        "revokedAt": ts(record.revoked_us),
        "expiresAt": ts(record.expires_us),  # a rotated key's grace end
    }


@router.get("/v1/admin/tenants", summary="The key's own tenant")
async def tenants(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    record, limit = await read(
        state, who, lambda uow: admission.tenant_limits(uow, state.rate_defaults)
    )
    return {
        "data": [
            {
                "tenantId": record.tenant_id,
                "name": record.name,
                "autoCreateMetrics": record.auto_create_metrics,
                "createdAt": ts(record.created_us),
                "rateLimit": {
                    "perSecond": limit.rate_per_second,
                    "burst": limit.burst,
                    "source": limit.source,
                },
            }
        ]
    }


@router.get("/v1/admin/api-keys", summary="List the tenant's API keys (never the secrets)")
async def list_keys(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: tenancy.list_keys(uow, who.tenant_id))
    return {"data": [key_json(k) for k in found]}


@router.post(
    "/v1/admin/api-keys",
    openapi_extra=operations_wire.ISSUE_KEY,
    status_code=201,
    summary="Create an API key (shown once)",
)
async def create_key(
    body: dict[str, Any] = Body(examples=[{"scopes": ["ingest", "read"], "label": "backend"}]),
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
    return {**key_json(issued.record), "key": issued.secret}


@router.post(
    "/v1/admin/api-keys/{key_id}/rotate",
    openapi_extra=operations_wire.ROTATE_KEY,
    status_code=201,
    summary="Issue a replacement with the same scopes (shown once); revoke the old key now "
    "or after graceSeconds",
)
async def rotate_key(
    key_id: str,
    body: dict[str, Any] | None = Body(None, examples=[{"graceSeconds": 300}]),
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
    return {**key_json(issued.record), "key": issued.secret, "replaces": key_id}


@router.delete("/v1/admin/api-keys/{key_id}", summary="Revoke an API key")
async def revoke_key(
    key_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: tenancy.revoke_key(uow, who.tenant_id, key_id, now))
    return {"id": key_id, "revoked": True}
