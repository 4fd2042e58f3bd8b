"""The read API of a portal token (``/portal/v1/...``): its customer's usage, history,
projection, entitlements, credit, upcoming invoice and own alert rules. Every route takes
the grant, never a customer id from the request, so another customer's data cannot even be
named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from stripemeter_server.api.deps import AppState, app_state, write
from stripemeter_server.api.fast_path import fast_path, fast_route
from stripemeter_server.api.routes.credits import credits_json
from stripemeter_server.api.routes.entitlements.views import access_answer
from stripemeter_server.api.routes.portal import hot
from stripemeter_server.api.routes.portal.auth import (
    PortalReader,
    acting,
    portal_grant,
    portal_read,
    portal_reader,
)
from stripemeter_server.api.routes.upcoming_invoice import invoice_json
from stripemeter_server.api.schemas import alerts as alerts_wire
from stripemeter_server.api.schemas import credits as credits_wire
from stripemeter_server.api.schemas import entitlements as entitlements_wire
from stripemeter_server.api.schemas import invoicing as invoicing_wire
from stripemeter_server.api.schemas import portal as portal_wire
from stripemeter_server.api.schemas import portal_reads as reads_wire
from stripemeter_server.api.schemas import usage_answers
from stripemeter_server.api.schemas.entitlements import AccessList
from stripemeter_server.api.serialize import PAGE_DEFAULT, first_page, parse_time_param
from stripemeter_server.api.wire import render
from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.service.portal import alerts as portal_alerts
from stripemeter_server.service.portal import reads as portal_reads
from stripemeter_server.service.portal.tokens import PortalGrant
from stripemeter_server.service.usage.reads import MAX_HISTORY_POINTS

router = APIRouter(prefix="/portal/v1", tags=["portal"])
Answers = dict[int | str, dict[str, Any]]
DEFAULT_HISTORY = timedelta(days=31)


def _lean_get(path: str, endpoint: Any, summary: str, responses: Answers) -> None:
    """A read served as a lean route (ADR 0830): no dependency solving, the same OpenAPI
    entry (its declared answer) and the same JSON bytes; found by the fast-path dispatch
    table rather than the router's route matching (ADR 0883, ADR 0937)."""
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        summary=summary,
        responses=responses,
        route_class_override=fast_path(hot.lean),
    )


@router.get("/me", summary="What this portal token may read", responses=portal_wire.ME_ANSWER)
async def me(grant: PortalGrant = Depends(portal_grant)) -> dict[str, Any]:
    return portal_wire.me_view(grant)


# A lean route (ADR 0830, ``_lean_get``): the same OpenAPI entry and answer.
async def usage(request: Request) -> Response:
    state = app_state(request)
    reader = await portal_reader(request, state)
    grant = reader.grant
    now = state.ctx.clock.now()
    found, costs = await portal_read(
        request, state, reader, lambda uow: portal_reads.current(uow, grant, now)
    )
    return JSONResponse(reads_wire.usage_view(grant.customer_ref, now, found, costs))


_lean_get(
    "/usage",
    usage,
    "Current-period usage and cost of every allowed metric",
    reads_wire.USAGE_ANSWER,
)


@fast_route(  # ADR 0880
    router,
    "/history",
    hot.history,
    methods=["GET"],
    summary="One metric's usage per hour, day or month (for charts)",
    responses=reads_wire.HISTORY_ANSWER,
)
async def history(
    request: Request,
    metric: str = Query(max_length=255),
    start: str | None = Query(None, alias="from", max_length=64),
    end: str | None = Query(None, alias="to", max_length=64),
    step: str = Query("day", max_length=8),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=MAX_HISTORY_POINTS),
    state: AppState = Depends(app_state),
    reader: PortalReader = Depends(portal_reader),
) -> dict[str, Any]:
    grant = reader.grant
    now = state.ctx.clock.now()
    finish = parse_time_param(end, "to") or now
    begin = parse_time_param(start, "from") or finish - DEFAULT_HISTORY
    code = check_identifier(metric, "metric")
    points = await portal_read(
        request,
        state,
        reader,
        lambda uow: portal_reads.history(uow, grant, code, begin, finish, step),
    )
    shown, next_from = first_page(points, lambda p: p.start, limit)
    return reads_wire.history_view(grant.customer_ref, code, step, shown, next_from)


# A lean route (ADR 0830, ``_lean_get``): the same OpenAPI entry and answer.
async def projection(request: Request) -> Response:
    state = app_state(request)
    reader = await portal_reader(request, state)
    grant = reader.grant
    now = state.ctx.clock.now()
    found = await portal_read(
        request, state, reader, lambda uow: portal_reads.projection(uow, grant, now)
    )
    return JSONResponse(usage_answers.projection_view(found))


_lean_get(
    "/projection",
    projection,
    "Current and projected quantity and cost of the period",
    usage_answers.PROJECTION_ANSWER,
)


# A lean route (ADR 0830, ``_lean_get``): the same OpenAPI entry and answer.
async def entitlements(request: Request) -> Response:
    state = app_state(request)
    reader = await portal_reader(request, state)
    grant = reader.grant
    now = state.ctx.clock.now()
    found = await portal_read(
        request, state, reader, lambda uow: portal_reads.entitlements(uow, grant, now)
    )
    listed = AccessList(data=[access_answer(a, grant.customer_ref) for a in found])
    return JSONResponse(render(listed))


_lean_get(
    "/entitlements",
    entitlements,
    "Every feature and the customer's access to it now (the token's metrics)",
    entitlements_wire.ACCESS_LIST,
)


# A lean route (ADR 0830, ``_lean_get``): the same OpenAPI entry and answer.
async def credits(request: Request) -> Response:
    state = app_state(request)
    reader = await portal_reader(request, state)
    grant = reader.grant
    now = state.ctx.clock.now()
    found = await portal_read(
        request, state, reader, lambda uow: portal_reads.credits(uow, grant, now)
    )
    return JSONResponse(credits_json(found))


_lean_get(
    "/credits",
    credits,
    "Credit balance per currency, per-grant remaining, run-out",
    credits_wire.CREDITS,
)


@fast_route(  # ADR 0880
    router,
    "/upcoming-invoice",
    hot.upcoming_invoice,
    methods=["GET"],
    summary="Preview the next invoice: lines of the token's metrics, credits, totals",
    responses=invoicing_wire.UPCOMING_ANSWER,
)
async def upcoming_invoice(
    request: Request,
    at: str | None = Query(None, max_length=64, description="preview the period containing"),
    state: AppState = Depends(app_state),
    reader: PortalReader = Depends(portal_reader),
) -> dict[str, Any]:
    grant = reader.grant
    now = state.ctx.clock.now()
    instant = parse_time_param(at, "at") or now
    found = await portal_read(
        request, state, reader, lambda uow: portal_reads.upcoming(uow, grant, instant, now)
    )
    return invoice_json(found)


# A lean route (ADR 0830, ``_lean_get``): the same OpenAPI entry and answer.
async def list_alerts(request: Request) -> Response:
    state = app_state(request)
    reader = await portal_reader(request, state)
    grant = reader.grant
    found = await portal_read(
        request, state, reader, lambda uow: portal_alerts.list_rules(uow, grant)
    )
    return JSONResponse(alerts_wire.rules_json(found))


_lean_get("/alerts", list_alerts, "The alert thresholds this customer set", alerts_wire.RULE_LIST)


@router.post(
    "/alerts",
    openapi_extra=portal_wire.ALERT_RULE,
    status_code=201,
    responses=alerts_wire.RULE_CREATED,
    summary="Set an alert threshold (the token's alerts:write scope)",
)
async def create_alert(
    request: Request,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    grant: PortalGrant = Depends(portal_grant),
) -> dict[str, Any]:
    command = portal_wire.parse_alert_rule(body, grant.customer_ref)
    now = state.ctx.clock.now()
    view = await write(
        state,
        acting(grant, request),
        lambda uow: portal_alerts.create_rule(uow, grant, command, now),
    )
    return alerts_wire.rule_json(view)


@router.delete(
    "/alerts/{rule_id}", status_code=204, summary="Delete an alert threshold this customer set"
)
async def delete_alert(
    rule_id: str,
    request: Request,
    state: AppState = Depends(app_state),
    grant: PortalGrant = Depends(portal_grant),
) -> Response:
    now = state.ctx.clock.now()
    await write(
        state,
        acting(grant, request),
        lambda uow: portal_alerts.delete_rule(uow, grant, rule_id[:64], now),
    )
    return Response(status_code=204)
