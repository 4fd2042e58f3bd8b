"""Prices per metric, and per-customer overrides (``/v1/customers/{customerRef}/prices``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import catalog as wire
from stripemeter_server.api.schemas.catalog import price_json
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.service.catalog import prices as pricing
from stripemeter_server.service.operations.tenancy import Principal

__all__ = ["price_json", "router"]  # the dashboard shows the same

router = APIRouter(tags=["prices"])


async def _put(
    metric: str,
    customer_ref: str | None,
    body: dict[str, Any],
    response: Response,
    state: AppState,
    who: Principal,
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    price = Parsed.of(lambda: price_from_dict(body))
    now = state.ctx.clock.now()
    view, created = await write(
        state, who, lambda uow: pricing.put_price(uow, metric, customer_ref, price, now)
    )
    response.status_code = 201 if created else 200
    return wire.price_json(view)


@router.get("/v1/prices", summary="List prices (defaults and overrides)", responses=wire.PRICES)
async def list_prices(
    metric: str | None = None,
    customer_ref: str | None = Query(None, alias="customerRef"),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    found = await read(
        state, who, lambda uow: pricing.list_prices(uow, metric=metric, customer_ref=customer_ref)
    )
    return wire.prices_json(found)


@router.put(
    "/v1/prices/{metric}",
    summary="Set the metric's default price",
    responses=wire.PRICE_PUT,
    openapi_extra=wire.PUT_PRICE,
)
async def put_default(
    metric: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _put(metric, None, body, response, state, who)


@router.get("/v1/prices/{metric}", summary="Get the metric's default price", responses=wire.PRICE)
async def get_default(
    metric: str, state: AppState = Depends(app_state), who: Principal = Depends(require("read"))
) -> dict[str, Any]:
    view = await read(state, who, lambda uow: pricing.get_price(uow, metric, None))
    return wire.price_json(view)


@router.delete("/v1/prices/{metric}", status_code=204, summary="Delete the default price")
async def delete_default(
    metric: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: pricing.delete_price(uow, metric, None, now))
    return Response(status_code=204)


@router.put(
    "/v1/customers/{customer_ref}/prices/{metric}",
    summary="Set a customer's price override for a metric",
    responses=wire.PRICE_PUT,
    openapi_extra=wire.PUT_PRICE,
)
async def put_override(
    customer_ref: str,
    metric: str,
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    return await _put(metric, customer_ref, body, response, state, who)


@router.get(
    "/v1/customers/{customer_ref}/prices/{metric}",
    summary="Get a customer's price override",
    responses=wire.PRICE,
)
async def get_override(
    customer_ref: str,
    metric: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    view = await read(state, who, lambda uow: pricing.get_price(uow, metric, customer_ref))
    return wire.price_json(view)


@router.delete(
    "/v1/customers/{customer_ref}/prices/{metric}",
    status_code=204,
    summary="Delete a customer's price override (the default applies again)",
)
async def delete_override(
    customer_ref: str,
    metric: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: pricing.delete_price(uow, metric, customer_ref, now))
    return Response(status_code=204)
