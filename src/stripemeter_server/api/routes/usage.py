"""Usage reads: current totals, billing periods, windows and history; period close."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from stripemeter_server.api.cached_reads import Reader, read_checked, reader
from stripemeter_server.api.deps import AppState, app_state, check_tenant, require, write
from stripemeter_server.api.fast_path import fast_route
from stripemeter_server.api.routes import usage_hot
from stripemeter_server.api.routes.corrections.shapes import held_json
from stripemeter_server.api.schemas import usage as usage_wire
from stripemeter_server.api.serialize import (
    PAGE_DEFAULT,
    dec,
    first_page,
    money,
    parse_time_param,
    require_time,
    ts,
)
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.corrections.backfills import open_sessions_for
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.usage import projection as projection_service
from stripemeter_server.service.usage import reads as usage_service
from stripemeter_server.service.usage.projection import current_with_costs
from stripemeter_server.service.usage.reads import MAX_HISTORY_POINTS

router = APIRouter(tags=["usage"])


def _required(body: dict[str, Any], name: str) -> str:
    raw = body.get(name)
    if not isinstance(raw, str) or not raw:
        raise ValidationError(f"{name} is required", code="missing_field", field=name)
    return check_identifier(raw, name)


def _customer(raw: object) -> str:
    return _required({"customerRef": raw}, "customerRef")


def period_json(item: usage_service.PeriodUsage) -> dict[str, Any]:
    body = {
        "metric": item.metric.code,
        "aggregation": item.metric.aggregation.value,
        "unit": item.metric.unit,
        "value": dec(item.value),
        "periodStart": ts(item.period.start),
        "periodEnd": ts(item.period.end),
        "status": item.status,
        "eventCount": item.state.count,
        "adjustments": dec(item.state.adjustments),
        "watermark": ts(item.state.watermark_us),
        "lateEvents": item.state.late_count,
    }
    if item.lock is not None:
        body["closedAt"] = ts(item.lock.closed_us)
        body["closeReason"] = item.lock.reason
        body["finalValue"] = dec(item.lock.final_value)
    return body


@fast_route(  # ADR 0860
    router,
    "/v1/usage/current",
    usage_hot.current,
    methods=["GET"],
    summary="Current-period usage of every metric",
)
async def current(
    request: Request,
    customer_ref: str = Query(alias="customerRef"),
    metric: str | None = None,
    tenant_id: str | None = Query(None, alias="tenantId"),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    check_tenant(admitted.who, tenant_id)
    now = state.ctx.clock.now()

    found, costs, held = await read_checked(
        request, state, admitted, lambda uow: current_with_costs(uow, customer_ref, now, metric)
    )
    return {
        "customerRef": customer_ref,
        "asOf": ts(now),
        "heldBackfills": held_json(held),  # sessions whose events these values do not include yet
        "metrics": [
            {**period_json(item), "cost": cost_json(costs.get(item.metric.code))} for item in found
        ],
    }


def cost_json(cost: Quote | None) -> dict[str, Any] | None:
    """A priced amount with its explainable lines; ``None`` for an unpriced metric."""
    if cost is None:
        return None
    return {
        "currency": cost.currency,
        "amount": money(cost.amount),
        "lines": [
            {
                "description": line.description,
                "quantity": dec(line.quantity),
                "unitAmount": dec(line.unit_amount),
                "amount": money(line.amount),
            }
            for line in cost.lines
        ],
    }


def projection_json(found: projection_service.Projection) -> dict[str, Any]:
    totals = found.totals[0] if len(found.totals) == 1 else None
    return {
        "customerRef": found.customer_ref,
        "asOf": ts(found.as_of),
        "periodStart": ts(found.period_start),
        "periodEnd": ts(found.period_end),
        "currency": totals.currency if totals else None,
        "metrics": [
            {
                "metric": m.usage.metric.code,
                "aggregation": m.line.aggregation,
                "unit": m.usage.metric.unit,
                "periodStart": ts(m.usage.period.start),
                "periodEnd": ts(m.usage.period.end),
                "currency": m.price.currency if m.price else None,
                "currentQuantity": dec(m.current_quantity),
                "projectedQuantity": dec(m.projected_quantity),
                "creditedQuantity": dec(m.credited_quantity),
                "currentCost": money(m.current_cost.amount) if m.current_cost else None,
                "projectedCost": money(m.projected_cost.amount) if m.projected_cost else None,
                "credits": money(m.credit_amount),
                "projectedCostLines": (cost_json(m.projected_cost) or {}).get("lines"),
            }
            for m in found.metrics
        ],
        "currentTotal": money(totals.current_total) if totals else None,
        "subtotal": money(totals.subtotal) if totals else None,
        "projectedSubtotal": money(totals.projected_subtotal) if totals else None,
        "credits": money(totals.credits) if totals else None,
        "total": money(totals.total) if totals else None,
        "totals": [
            {
                "currency": t.currency,
                "currentTotal": money(t.current_total),
                "subtotal": money(t.subtotal),
                "projectedSubtotal": money(t.projected_subtotal),
                "credits": money(t.credits),
                "total": money(t.total),
            }
            for t in found.totals
        ],
    }


@router.post(
    "/v1/usage/projection",
    openapi_extra=usage_wire.PROJECTION,
    summary="Current and projected quantity and cost",
)
async def projection(
    request: Request,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    body = declared(usage_wire.PROJECTION_SHAPE, body)
    check_tenant(admitted.who, body.get("tenantId"))
    customer_ref = _customer(body.get("customerRef"))
    metric = body.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise ValidationError("metric must be a metric code", code="invalid_metric", field="metric")
    now = state.ctx.clock.now()
    found = await read_checked(
        request,
        state,
        admitted,
        lambda uow: projection_service.project_customer(uow, customer_ref, now, metric),
    )
    return projection_json(found)


@router.get("/v1/usage/periods", summary="Billing periods with value and open/closed status")
async def periods(
    request: Request,
    customer_ref: str = Query(alias="customerRef"),
    metric: str = Query(),
    start: str = Query(alias="from"),
    end: str = Query(alias="to"),
    limit: int = Query(
        PAGE_DEFAULT,
        ge=1,
        le=MAX_HISTORY_POINTS,
        description="Periods per page; `nextFrom` continues the list",
    ),
    tenant_id: str | None = Query(None, alias="tenantId"),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    check_tenant(admitted.who, tenant_id)
    begin, finish = require_time(start, "from"), require_time(end, "to")
    now = state.ctx.clock.now()
    found, held = await read_checked(
        request,
        state,
        admitted,
        lambda uow: (
            usage_service.billing_periods(uow, customer_ref, metric, begin, finish, now),
            held_json(open_sessions_for(uow, customer_ref, metric)),
        ),
    )
    shown, next_from = first_page(found, lambda item: item.period.start, limit)
    return {
        "customerRef": customer_ref,
        "metric": metric,
        "heldBackfills": held,
        "data": [period_json(item) for item in shown],
        "nextFrom": ts(next_from),
    }


@router.post(
    "/v1/usage/query", openapi_extra=usage_wire.QUERY, summary="All aggregates over any window"
)
async def query(
    request: Request,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    body = declared(usage_wire.QUERY_SHAPE, body)
    check_tenant(admitted.who, body.get("tenantId"))
    customer_ref, metric = _required(body, "customerRef"), _required(body, "metric")
    start, end = require_time(body.get("start"), "start"), require_time(body.get("end"), "end")
    found = await read_checked(
        request,
        state,
        admitted,
        lambda uow: usage_service.query_window(uow, customer_ref, metric, start, end),
    )
    return {
        "customerRef": customer_ref,
        "metric": metric,
        "start": ts(start),
        "end": ts(end),
        "source": "counter" if found.from_counter else "ledger",
        "value": {
            "count": found.count,
            "sum": dec(found.sum),
            "max": dec(found.max),
            "min": dec(found.min),
            "latest": dec(found.latest),
            "uniqueCount": found.unique_count,
            "avg": dec(found.avg),
            "billable": dec(found.value),
        },
    }


@router.get("/v1/usage/history", summary="Usage per hour/day/month, optionally grouped")
async def history(
    request: Request,
    customer_ref: str = Query(alias="customerRef"),
    metric: str = Query(),
    start: str = Query(alias="from"),
    end: str = Query(alias="to"),
    step: str = Query("day"),
    group_by: str | None = Query(None, alias="groupBy"),
    limit: int = Query(
        PAGE_DEFAULT,
        ge=1,
        le=MAX_HISTORY_POINTS,
        description="Time buckets per page; `nextFrom` continues the series",
    ),
    tenant_id: str | None = Query(None, alias="tenantId"),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    check_tenant(admitted.who, tenant_id)
    begin, finish = require_time(start, "from"), require_time(end, "to")
    points = await read_checked(
        request,
        state,
        admitted,
        lambda uow: usage_service.usage_history(
            uow, customer_ref, metric, begin, finish, step, group_by
        ),
    )
    points, next_from = first_page(points, lambda p: p.start, limit)
    return {
        "customerRef": customer_ref,
        "metric": metric,
        "step": step,
        "groupBy": group_by,
        "nextFrom": ts(next_from),
        "data": [
            {
                "start": ts(p.start),
                "end": ts(p.end),
                "group": p.group,
                "value": dec(p.value),
                "eventCount": p.count,
            }
            for p in points
        ],
    }


@router.post(
    "/v1/periods/close",
    openapi_extra=usage_wire.CLOSE,
    tags=["periods"],
    summary="Close a billing period early and freeze its value (invoice lock)",
)
async def close(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    body = declared(usage_wire.CLOSE_SHAPE, body)
    check_tenant(who, body.get("tenantId"))
    customer_ref, metric = _required(body, "customerRef"), _required(body, "metric")
    now = state.ctx.clock.now()
    at = parse_time_param(body.get("periodStart"), "periodStart") or now
    reason = body.get("reason") or "manual"
    lock = await write(
        state, who, lambda uow: close_period(uow, customer_ref, metric, at, now, str(reason)[:64])
    )
    return {
        "customerRef": customer_ref,
        "metric": metric,
        "periodStart": ts(lock.period_start_us),
        "periodEnd": ts(lock.period_end_us),
        "status": "closed",
        "reason": lock.reason,
        "finalValue": dec(lock.final_value),
        "closedAt": ts(lock.closed_us),
    }
