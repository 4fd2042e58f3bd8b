"""Metric definitions (CRUD) and customer records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import catalog as wire
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.service.catalog import metrics as metrics_admin
from stripemeter_server.service.catalog.commands import MetricChanges
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["metrics"])


@router.post(
    "/v1/metrics",
    status_code=201,
    summary="Create a metric (idempotent)",
    responses=wire.METRIC_CREATED,
    openapi_extra=wire.CREATE_METRIC,
)
async def create_metric(
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(wire.METRIC_SHAPE, body)
    check_tenant(who, body.pop("tenantId", None))
    metric = metric_from_dict(body)
    now = state.ctx.clock.now()
    saved = await write(state, who, lambda uow: metrics_admin.create_metric(uow, metric, now))
    if not saved.created:
        response.status_code = 200
    return wire.metric_json(saved.metric)


@router.get("/v1/metrics", summary="List metrics", responses=wire.METRICS)
async def list_metrics(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, metrics_admin.list_metrics)
    return wire.metrics_json(found)


@router.get("/v1/metrics/{code}", summary="Get a metric", responses=wire.METRIC)
async def get_metric(
    code: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    metric = await read(state, who, lambda uow: metrics_admin.get_metric(uow, code))
    return wire.metric_json(metric)


@router.patch(
    "/v1/metrics/{code}",
    summary="Change a metric (rebuilds counters if needed)",
    openapi_extra=wire.CHANGE_METRIC,
    responses=wire.METRIC,
)
async def update_metric(
    code: str,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(wire.METRIC_SHAPE, body)
    check_tenant(who, body.pop("tenantId", None))
    changes = MetricChanges.of(body)
    now = state.ctx.clock.now()
    saved = await write(
        state, who, lambda uow: metrics_admin.update_metric(uow, code, changes, now)
    )
    return wire.metric_json(saved.metric, saved.rebuilt)


@router.put(
    "/v1/metrics/{code}",
    summary="Replace a metric (same as PATCH with every field)",
    openapi_extra=wire.CHANGE_METRIC,
    responses=wire.METRIC,
)
async def put_metric(
    code: str,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await update_metric(code, body, state, who)


@router.delete("/v1/metrics/{code}", status_code=204, summary="Delete a metric definition")
async def delete_metric(
    code: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: metrics_admin.delete_metric(uow, code, now))
    return Response(status_code=204)


@router.put(
    "/v1/customers/{customer_ref}",
    tags=["customers"],
    summary="Create or replace a customer record (anchor, time zone, Stripe id)",
    openapi_extra=wire.PUT_CUSTOMER,
    responses=wire.CUSTOMER,
)
async def put_customer(
    customer_ref: str,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(wire.CUSTOMER_SHAPE, body)
    check_tenant(who, body.pop("tenantId", None))
    change = wire.customer_terms(customer_ref, body)
    now = state.ctx.clock.now()
    record, rebuilt = await write(
        state, who, lambda uow: metrics_admin.put_customer(uow, change, now)
    )
    return wire.customer_json(record, rebuilt)


@router.get(
    "/v1/customers/{customer_ref}",
    tags=["customers"],
    summary="Get a customer record",
    responses=wire.CUSTOMER,
)
async def get_customer(
    customer_ref: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    record = await read(state, who, lambda uow: metrics_admin.get_customer(uow, customer_ref))
    return wire.customer_json(record)
