"""Metrics and prices: every metric's definition and its prices (the default, then each
customer's override), as ``/v1/metrics`` and ``/v1/prices`` list them. Read-only: prices and
metrics are set through the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from stripemeter_server.api.deps import read
from stripemeter_server.api.routes.catalog.prices import price_json
from stripemeter_server.api.ui.web import Operator, UiRoute, operator, state_of, ui_tools
from stripemeter_server.domain.metrics import metric_to_dict
from stripemeter_server.service.catalog import metrics as metrics_admin
from stripemeter_server.service.catalog import prices as pricing
from stripemeter_server.service.ports.unit_of_work import UnitOfWork

router = APIRouter(route_class=UiRoute)


def _catalog(uow: UnitOfWork) -> dict[str, Any]:
    prices = sorted((price_json(v) for v in pricing.list_prices(uow)), key=_default_first)
    return {
        "metrics": [metric_to_dict(m) for m in metrics_admin.list_metrics(uow)],
        "prices": prices,
    }


def _default_first(price: dict[str, Any]) -> tuple[str, bool, str]:
    """Each metric's default price, then its customer overrides by reference."""
    ref = price["customerRef"]
    return price["metric"], ref is not None, ref or ""


@router.get("/ui/metrics")
async def catalog_page(request: Request, who: Operator = Depends(operator)) -> Response:
    found = await read(state_of(request), who.who, _catalog)
    return ui_tools(request).pages.render(request, "catalog.html", **found)
