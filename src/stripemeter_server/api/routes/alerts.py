"""Alert rules (CRUD), fired alert events with their delivery log, and the SSE stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import alerts as alerts_wire
from stripemeter_server.api.schemas.alerts import attempt_json, outbox_json, rule_json
from stripemeter_server.domain.alerts import parse_new_rule, parse_rule_changes
from stripemeter_server.domain.bounded import MAX_SEQUENCE, parse_sequence
from stripemeter_server.service.alerts import events as alert_events
from stripemeter_server.service.alerts import rules as alerts_service
from stripemeter_server.service.alerts.ports import AlertEventRecord
from stripemeter_server.service.operations.tenancy import Principal

__all__ = ["attempt_json", "outbox_json", "router", "rule_json"]  # the UI and portal show them

router = APIRouter(tags=["alerts"])

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 0.5
PAGE = 100


@router.post(
    "/v1/alerts",
    openapi_extra=alerts_wire.CREATE_RULE,
    status_code=201,
    summary="Create an alert rule",
    responses=alerts_wire.RULE_CREATED,
)
async def create(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    command = parse_new_rule(body)
    now = state.ctx.clock.now()
    private = state.settings.allow_private_webhooks
    view = await write(
        state,
        who,
        lambda uow: alerts_service.create_rule(uow, command, now, allow_private=private),
    )
    return rule_json(view)


@router.get("/v1/alerts", summary="List alert rules", responses=alerts_wire.RULE_LIST)
async def list_rules(
    state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    found = await read(state, who, alerts_service.list_rules)
    return alerts_wire.rules_json(found)


@router.get(
    "/v1/alerts/events",
    summary="Fired alert events, oldest first",
    responses=alerts_wire.EVENT_PAGE,
)
async def list_events(
    after: int = Query(0, ge=0, le=MAX_SEQUENCE, description="Return events after this id"),
    limit: int = Query(100, ge=1, le=1000),
    rule_id: str | None = Query(None, alias="ruleId"),
    customer_ref: str | None = Query(None, alias="customerRef"),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    found = await read(
        state,
        who,
        lambda uow: alert_events.list_events(
            uow, after_seq=after, limit=limit, rule_id=rule_id, customer_ref=customer_ref
        ),
    )
    return alerts_wire.events_json(found, after)


@router.get(
    "/v1/alerts/events/{event_id}/deliveries",
    summary="Webhook deliveries of an alert event and every attempt",
    responses=alerts_wire.DELIVERIES,
)
async def deliveries(
    event_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    outbox, attempts = await read(state, who, lambda uow: alert_events.deliveries(uow, event_id))
    return alerts_wire.deliveries_json(event_id, outbox, attempts)


def _resume_point(header: str | None, query: int | None) -> int:
    """The stream's start: ``Last-Event-ID`` (header) or ``lastEventId``, bounded like
    every sequence, so a bad one is a 422 before the stream starts (never a dropped 200)."""
    if header is not None and header != "":
        return parse_sequence(header.strip(), "Last-Event-ID", code="invalid_last_event_id")
    return query or 0


def sse_frame(event: AlertEventRecord) -> str:
    data = json.dumps(alert_events.event_body(event), separators=(",", ":"))
    return f"id: {event.seq}\nevent: alert\ndata: {data}\n\n"


@router.get(
    "/v1/alerts/stream",
    summary="Server-sent events of the tenant's alert events",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    after: int | None = Query(None, ge=0, le=MAX_SEQUENCE, alias="lastEventId"),
    once: bool = Query(False, description="End after sending the backlog"),
    limit: int | None = Query(
        None, ge=1, le=MAX_SEQUENCE, description="End after this many events"
    ),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> StreamingResponse:
    """Events after ``Last-Event-ID`` (header, or ``lastEventId`` query), then new ones as
    they are fired; a comment line every 15 s keeps proxies from closing an idle stream.
    Event ids are the per-tenant sequence, so a reconnecting client resumes exactly."""
    cursor = _resume_point(last_event_id, after)

    async def frames() -> AsyncIterator[str]:
        position, sent, beat = cursor, 0, time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            found = await read(
                state, who, partial(alert_events.list_events, after_seq=position, limit=PAGE)
            )
            for event in found:
                yield sse_frame(event)
                position, sent = event.seq, sent + 1
                if limit is not None and sent >= limit:
                    return
            if len(found) == PAGE:
                continue
            if once or await request.is_disconnected():
                return
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                beat = time.monotonic()
                yield ": heartbeat\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/v1/alerts/{rule_id}", summary="Get an alert rule", responses=alerts_wire.RULE_ANSWER)
async def get_rule(
    rule_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    view = await read(state, who, lambda uow: alerts_service.get_rule(uow, rule_id))
    return rule_json(view)


@router.patch(
    "/v1/alerts/{rule_id}",
    openapi_extra=alerts_wire.CHANGE_RULE,
    summary="Change an alert rule",
    responses=alerts_wire.RULE_ANSWER,
)
async def update_rule(
    rule_id: str,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    command = parse_rule_changes(body)
    now = state.ctx.clock.now()
    private = state.settings.allow_private_webhooks
    view = await write(
        state,
        who,
        lambda uow: alerts_service.update_rule(uow, rule_id, command, now, allow_private=private),
    )
    return rule_json(view)


@router.delete("/v1/alerts/{rule_id}", status_code=204, summary="Delete an alert rule")
async def delete_rule(
    rule_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    await write(state, who, lambda uow: alerts_service.delete_rule(uow, rule_id))
    return Response(status_code=204)
