"""Usage reads: current totals, billing periods, windows and history; period close."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from stripemeter_server.api.cached_reads import Reader, read_checked, read_stamped, reader
from stripemeter_server.api.deps import AppState, app_state, check_tenant, require, write
from stripemeter_server.api.fast_path import fast_route
from stripemeter_server.api.routes import usage_hot
from stripemeter_server.api.schemas import usage as usage_wire
from stripemeter_server.api.schemas import usage_answers as answers
from stripemeter_server.api.serialize import (
    PAGE_DEFAULT,
    first_page,
    require_time,
)
from stripemeter_server.api.wire import declared, render
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.usage import projection as projection_service
from stripemeter_server.service.usage import reads as usage_service
from stripemeter_server.service.usage.projection import current_with_costs
from stripemeter_server.service.usage.reads import MAX_HISTORY_POINTS

router = APIRouter(tags=["usage"])


@fast_route(  # ADR 0860
    router,
    "/v1/usage/current",
    usage_hot.current,
    methods=["GET"],
    summary="Current-period usage of every metric",
    responses=answers.CURRENT_ANSWER,
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
        request,
        state,
        admitted,
        lambda uow: current_with_costs(uow, customer_ref, now, metric),
        shared_snapshot=False,  # each statement reads what is committed (ADR 0883)
        on_loop=True,  # SQLite: on the event loop, never waiting (ADR 0961)
    )
    # ``held``: sessions whose events these values do not include yet
    return answers.current_view(customer_ref, now, found, costs, held)


@router.post(
    "/v1/usage/projection",
    openapi_extra=usage_wire.PROJECTION,
    responses=answers.PROJECTION_ANSWER,
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
    customer_ref, metric = usage_wire.parse_projection(body)
    now = state.ctx.clock.now()
    found = await read_checked(
        request,
        state,
        admitted,
        lambda uow: projection_service.project_customer(uow, customer_ref, now, metric),
    )
    return answers.projection_view(found)


@fast_route(  # ADR 0941
    router,
    "/v1/usage/periods",
    usage_hot.periods,
    methods=["GET"],
    summary="Billing periods with value and open/closed status",
    responses=answers.PERIODS_ANSWER,
)
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
    found, held = await read_stamped(  # one statement, its key stamp first (ADR 0961)
        request,
        state,
        admitted,
        usage_hot.periods_read(customer_ref, metric, begin, finish, now),
        on_loop=True,  # SQLite: on the event loop, never waiting (ADR 0961)
    )
    shown, next_from = first_page(found, lambda item: item.period.start, limit)
    return answers.period_page(customer_ref, metric, held, shown, next_from)


@router.post(
    "/v1/usage/query",
    openapi_extra=usage_wire.QUERY,
    summary="All aggregates over any window",
    responses=answers.QUERY_ANSWER,
)
async def query(
    request: Request,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    admitted: Reader = Depends(reader("read")),
) -> dict[str, Any]:
    body = declared(usage_wire.QUERY_SHAPE, body)
    check_tenant(admitted.who, body.get("tenantId"))
    customer_ref, metric, start, end = usage_wire.parse_query(body)
    found = await read_checked(
        request,
        state,
        admitted,
        lambda uow: usage_service.query_window(uow, customer_ref, metric, start, end),
    )
    return answers.window_view(customer_ref, metric, start, end, found)


@fast_route(  # ADR 0941
    router,
    "/v1/usage/history",
    usage_hot.history,
    methods=["GET"],
    summary="Usage per hour/day/month, optionally grouped",
    responses=answers.HISTORY_ANSWER,
)
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
    page = await usage_hot.history_answer_of(  # two statements (ADR 0967)
        request,
        state,
        admitted,
        (customer_ref, metric, start, end),
        step,
        group_by,
        limit,
        tenant_id,
    )
    return render(page)


@router.post(
    "/v1/periods/close",
    openapi_extra=usage_wire.CLOSE,
    responses=answers.CLOSE_ANSWER,
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
    now = state.ctx.clock.now()
    found = usage_wire.parse_close(body, now)
    lock = await write(
        state,
        who,
        lambda uow: close_period(
            uow, found.customer_ref, found.metric, found.at, now, found.reason
        ),
    )
    return answers.closed_view(lock)
