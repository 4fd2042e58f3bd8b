"""Overview: ingest status counts over the last hour and day, periods closing soon, pushes, the last
reconciliation, held invoices and the latest alert events."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from stripemeter_server.api.deps import read
from stripemeter_server.api.schemas.reconciliation import run_view
from stripemeter_server.api.schemas.stripe_sync import push_health_view
from stripemeter_server.api.serialize import ts
from stripemeter_server.api.ui.web import Operator, UiRoute, operator, state_of, ui_tools
from stripemeter_server.service.dashboard import reads as dashboard
from stripemeter_server.service.stripe_sync.ports.pushes import PushStats
from stripemeter_server.service.stripe_sync.pushes import push_health

router = APIRouter(route_class=UiRoute)


@router.get("/ui/overview")
async def overview_page(request: Request, who: Operator = Depends(operator)) -> Response:
    state = state_of(request)
    now = state.ctx.clock.now()
    found = await read(state, who.who, lambda uow: dashboard.overview(uow, now))
    pushes = found.pushes
    health = push_health(PushStats(pushes.pending, pushes.failed, pushes.oldest_pending_us), now)
    return ui_tools(request).pages.render(
        request,
        "overview.html",
        view=found,
        pushes=push_health_view(health),
        ts=ts,
        last_run=run_view(found.last_run) if found.last_run else None,
    )
