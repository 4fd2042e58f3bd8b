"""Alerts: the rules, the fired events, and one event's webhook deliveries with every
attempt, as ``/v1/alerts`` shows them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from stripemeter_server.api.deps import read
from stripemeter_server.api.routes.alerts import attempt_json, outbox_json, rule_json
from stripemeter_server.api.ui.web import Operator, UiRoute, operator, state_of, ui_tools
from stripemeter_server.service.alerts import events as alert_events
from stripemeter_server.service.alerts import rules as alerts_service
from stripemeter_server.service.dashboard import lists as dashboard_lists
from stripemeter_server.service.ports.unit_of_work import UnitOfWork

router = APIRouter(route_class=UiRoute)


def _alerts(uow: UnitOfWork, after: int) -> dict[str, Any]:
    events = dashboard_lists.alert_events(uow, after)
    return {
        "rules": [rule_json(r) for r in alerts_service.list_rules(uow)],
        "events": [alert_events.event_body(e) for e in events],
        "next_after": events[-1].seq if len(events) == dashboard_lists.EVENTS_PAGE else None,
    }


@router.get("/ui/alerts")
async def alerts_page(
    request: Request, who: Operator = Depends(operator), after: int = Query(0, ge=0, le=2**62)
) -> Response:
    found = await read(state_of(request), who.who, lambda uow: _alerts(uow, after))
    return ui_tools(request).pages.render(request, "alerts.html", **found)


@router.get("/ui/alerts/events/{event_id}")
async def deliveries_page(
    request: Request, who: Operator = Depends(operator), event_id: str = Path(max_length=64)
) -> Response:
    event, outbox, attempts = await read(
        state_of(request), who.who, lambda uow: dashboard_lists.alert_deliveries(uow, event_id)
    )
    return ui_tools(request).pages.render(
        request,
        "deliveries.html",
        event=alert_events.event_body(event),
        deliveries=[outbox_json(o) for o in outbox],
        attempts=[attempt_json(a) for a in attempts],
    )
