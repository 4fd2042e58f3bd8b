"""Customers: a searchable list (keyset paged) and one customer's live usage, cost and
projection, history chart, periods and Stripe mapping, read as ``/v1/usage/*`` reads them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from stripemeter_server.api.deps import read
from stripemeter_server.api.schemas.usage_answers import cost_json, period_json, projection_json
from stripemeter_server.api.ui.pages.customer_billing import billing_section
from stripemeter_server.api.ui.web import Operator, UiRoute, operator, state_of, ui_tools
from stripemeter_server.service.dashboard import reads as dashboard
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage import projection as projection_service
from stripemeter_server.service.usage import reads as usage_service

router = APIRouter(route_class=UiRoute)
HISTORY_DAYS = 31
PERIODS_BACK = timedelta(days=190)


@router.get("/ui/customers")
async def customer_list(
    request: Request,
    who: Operator = Depends(operator),
    q: str = Query("", max_length=255),
    after: str | None = Query(None, max_length=255),
) -> Response:
    state = state_of(request)
    page = await read(state, who.who, lambda uow: dashboard.customer_page(uow, q, after))
    return ui_tools(request).pages.render(request, "customers.html", page=page, q=q, after=after)


def _customer(uow: UnitOfWork, ref: str, now: datetime) -> dict[str, Any]:
    dashboard.require_customer(uow, ref)
    usage = usage_service.current_usage(uow, ref, now)
    costs = projection_service.current_costs(uow, ref, usage)
    metrics = [
        {**period_json(item), "cost": cost_json(costs.get(item.metric.code))} for item in usage
    ]
    history = {
        item.metric.code: usage_service.usage_history(
            uow, ref, item.metric.code, now - timedelta(days=HISTORY_DAYS), now, "day", None
        )
        for item in usage
    }
    periods = {
        item.metric.code: usage_service.billing_periods(
            uow, ref, item.metric.code, now - PERIODS_BACK, now + timedelta(days=1), now
        )
        for item in usage
    }
    stripe_id, items = dashboard.stripe_mapping(uow, ref, [m.metric.code for m in usage])
    return {
        "metrics": metrics,
        "stripe_id": stripe_id,
        "items": items,
        "projection": projection_json(projection_service.project_customer(uow, ref, now)),
        "periods": {code: [period_json(p) for p in found][::-1] for code, found in periods.items()},
        "history": {
            code: [{"start": p.start.isoformat(), "value": str(p.value)} for p in points]
            for code, points in history.items()
        },
        **billing_section(uow, ref, now),
    }


@router.get("/ui/customers/{ref}")
async def customer_page(ref: str, request: Request, who: Operator = Depends(operator)) -> Response:
    state = state_of(request)
    now = state.ctx.clock.now()
    found = await read(state, who.who, lambda uow: _customer(uow, ref, now))
    chart = json.dumps(found["history"]).replace("<", "\\u003c")  # safe inside <script>
    return ui_tools(request).pages.render(request, "customer.html", ref=ref, chart=chart, **found)
