"""Features and customers' grants of them (admin), with one-off extra grants."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.routes.entitlements.views import extra_json, feature_json, grant_json
from stripemeter_server.api.schemas import entitlements as entitlements_wire
from stripemeter_server.api.schemas.entitlement_commands import (
    extra_grant_request,
    feature_definition,
    new_grant,
)
from stripemeter_server.service.entitlements import features as features_admin
from stripemeter_server.service.entitlements import grants as grants_admin
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["entitlements"])


@router.put(
    "/v1/features/{key}",
    openapi_extra=entitlements_wire.FEATURE,
    status_code=201,
    summary="Create or replace a feature (boolean, static or metered)",
    responses=entitlements_wire.FEATURE_PUT,
)
async def put_feature(
    key: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    feature = feature_definition(key, body)
    now = state.ctx.clock.now()
    saved = await write(state, who, lambda uow: features_admin.put_feature(uow, feature, now))
    if not saved.created:
        response.status_code = 200
    return feature_json(saved.feature)


@router.get("/v1/features", summary="List features", responses=entitlements_wire.FEATURES)
async def list_features(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, features_admin.list_features)
    return {"data": [feature_json(f) for f in found]}  # FeatureList


@router.get(
    "/v1/features/{key}", summary="Get a feature", responses=entitlements_wire.FEATURE_ANSWER
)
async def get_feature(
    key: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    feature = await read(state, who, lambda uow: features_admin.get_feature(uow, key))
    return feature_json(feature)


@router.delete("/v1/features/{key}", status_code=204, summary="Delete a feature")
async def delete_feature(
    key: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: features_admin.delete_feature(uow, key, now))
    return Response(status_code=204)


@router.put(
    "/v1/customers/{customer_ref}/entitlements/{feature}",
    openapi_extra=entitlements_wire.GRANT,
    status_code=201,
    summary="Grant a customer a feature (limit, hard/soft, overage, validity)",
    responses=entitlements_wire.GRANT_PUT,
)
async def put_grant(
    customer_ref: str,
    feature: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    asked = new_grant(customer_ref, feature, body)
    now = state.ctx.clock.now()
    record, created = await write(
        state, who, lambda uow: grants_admin.put_grant(uow, customer_ref, feature, asked, now)
    )
    if not created:
        response.status_code = 200
    return grant_json(record)


@router.get(
    "/v1/customers/{customer_ref}/entitlements/{feature}/grant",
    summary="Get a customer's grant of a feature (as configured)",
    responses=entitlements_wire.GRANT_ANSWER,
)
async def get_grant(
    customer_ref: str,
    feature: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    record = await read(state, who, lambda uow: grants_admin.get_grant(uow, customer_ref, feature))
    return grant_json(record)


@router.delete(
    "/v1/customers/{customer_ref}/entitlements/{feature}",
    status_code=204,
    summary="Withdraw a customer's grant of a feature",
)
async def delete_grant(
    customer_ref: str,
    feature: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: grants_admin.delete_grant(uow, customer_ref, feature, now))
    return Response(status_code=204)


@router.post(
    "/v1/customers/{customer_ref}/entitlements/{feature}/extra-grants",
    openapi_extra=entitlements_wire.EXTRA_GRANT,
    status_code=201,
    summary="Add a one-off amount to the limit for the current usage window",
    responses=entitlements_wire.EXTRA_CREATED,
)
async def add_extra(
    customer_ref: str,
    feature: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    asked = extra_grant_request(body)
    now = state.ctx.clock.now()
    extra, created = await write(
        state, who, lambda uow: grants_admin.add_extra(uow, customer_ref, feature, asked, now)
    )
    if not created:
        response.status_code = 200
    return extra_json(extra)
