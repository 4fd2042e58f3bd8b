"""Events: the ledger newest first (filters, keyset paging), one event, and its void (a
confirmation page first; the write is ``corrections.void_event``, as ``/v1/events/void``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from stripemeter_server.api.deps import read, write
from stripemeter_server.api.schemas.ingest import event_json
from stripemeter_server.api.ui.web import (
    Operator,
    UiRoute,
    back_to,
    operator,
    state_of,
    ui_tools,
    writer,
)
from stripemeter_server.domain.bounded import parse_sequence
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.adjustments import void_event
from stripemeter_server.service.dashboard import reads as dashboard

router = APIRouter(route_class=UiRoute)


def _cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    return parse_sequence(raw, "before")


@router.get("/ui/events")
async def ledger(
    request: Request,
    who: Operator = Depends(operator),
    metric: str = Query("", max_length=255),
    customer: str = Query("", max_length=255),
    before: str | None = Query(None, max_length=19),
) -> Response:
    state = state_of(request)
    cursor = _cursor(before)
    page = await read(
        state,
        who.who,
        lambda uow: dashboard.ledger_page(uow, metric=metric, customer_ref=customer, before=cursor),
    )
    return ui_tools(request).pages.render(
        request,
        "events.html",
        events=[event_json(e) for e in page.items],
        next_cursor=page.next_cursor,
        metric=metric,
        customer=customer,
    )


async def _event(request: Request, who: Operator, key: str) -> Response:
    state = state_of(request)
    found = await read(state, who.who, lambda uow: dashboard.event_detail(uow, key))
    template = "event_void.html" if request.url.path.endswith("/void") else "event.html"
    return ui_tools(request).pages.render(
        request, template, event=event_json(found), notice=request.query_params.get("notice")
    )


@router.get("/ui/events/detail")
async def event_page(
    request: Request, who: Operator = Depends(operator), key: str = Query(max_length=255)
) -> Response:
    return await _event(request, who, key)


@router.get("/ui/events/void")
async def void_confirmation(
    request: Request, who: Operator = Depends(operator), key: str = Query(max_length=255)
) -> Response:
    return await _event(request, who, key)


@router.post("/ui/events/void")
async def void(request: Request) -> Response:
    who, form = await writer(request)
    key = form.get("key", "")
    if not key or form.get("confirm") != "yes":
        raise ValidationError(
            "confirm the void of a named event", code="missing_field", field="confirm"
        )
    state = state_of(request)
    now = state.ctx.clock.now()
    await write(state, who.who, lambda uow: void_event(uow, key, now))
    return back_to(f"/ui/events/detail?key={quote(key, safe='')}", "The event is void.")
