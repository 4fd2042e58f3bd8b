"""Pushes to Stripe (``/v1/pushes``): list them, retry a parked one; and the subscription
item a customer's metric is reported to in ``usage_records`` mode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from stripemeter_server.api.deps import AppState, app_state, read, require, write
from stripemeter_server.api.schemas import stripe_sync as stripe_sync_wire
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.stripe_sync import pushes

router = APIRouter(tags=["stripe"])
ITEM_PATH = "/v1/customers/{customerRef}/stripe-subscription-items/{metric}"


@router.get(
    "/v1/pushes",
    responses=stripe_sync_wire.PUSHES_ANSWER,
    summary="List pushes to Stripe (newest first)",
)
async def list_pushes(
    status: str | None = Query(None, max_length=16, description="pending | sent | failed"),
    metric: str | None = Query(None, max_length=255),
    customer_ref: str | None = Query(None, alias="customerRef", max_length=255),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(100, ge=1, le=pushes.MAX_LIMIT),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    page = await read(
        state,
        who,
        lambda uow: pushes.list_pushes(
            uow, status=status, metric=metric, customer_ref=customer_ref, cursor=cursor, limit=limit
        ),
    )
    return stripe_sync_wire.push_list(page)


@router.post(
    "/v1/pushes/{push_id}/retry",
    responses=stripe_sync_wire.PUSH_ANSWER,
    summary="Retry a parked (failed) push now",
)
async def retry_push(
    push_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    row = await write(state, who, lambda uow: pushes.retry_push(uow, push_id, now))
    return stripe_sync_wire.push_view(row)


@router.put(
    ITEM_PATH,
    openapi_extra=stripe_sync_wire.SUBSCRIPTION_ITEM,
    responses=stripe_sync_wire.ITEM_ANSWER,
    summary="Set the subscription item a metric's usage records go to",
)
async def put_subscription_item(
    customer_ref: str = Path(alias="customerRef", max_length=255),
    metric: str = Path(max_length=255),
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    item = stripe_sync_wire.parse_subscription_item(body)
    now = state.ctx.clock.now()
    record = await write(
        state, who, lambda uow: pushes.set_subscription_item(uow, customer_ref, metric, item, now)
    )
    return stripe_sync_wire.subscription_item_view(record)


@router.get(
    ITEM_PATH,
    responses=stripe_sync_wire.ITEM_ANSWER,
    summary="Show the subscription item a metric's usage records go to",
)
async def get_subscription_item(
    customer_ref: str = Path(alias="customerRef", max_length=255),
    metric: str = Path(max_length=255),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    record = await read(state, who, lambda uow: pushes.subscription_item(uow, customer_ref, metric))
    return stripe_sync_wire.subscription_item_view(record)


@router.delete(
    ITEM_PATH,
    status_code=204,
    summary="Forget the subscription item (it is looked up again from Stripe)",
)
async def delete_subscription_item(
    customer_ref: str = Path(alias="customerRef", max_length=255),
    metric: str = Path(max_length=255),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> Response:
    now = state.ctx.clock.now()
    await write(
        state, who, lambda uow: pushes.delete_subscription_item(uow, customer_ref, metric, now)
    )
    return Response(status_code=204)
