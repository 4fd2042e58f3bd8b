"""Reservations: hold quantity against a hard limit, then commit it as usage or release it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.fast_path import fast_route
from stripemeter_server.api.routes.entitlements import hot
from stripemeter_server.api.routes.entitlements.views import reservation_json
from stripemeter_server.api.schemas import entitlements as entitlements_wire
from stripemeter_server.api.schemas.entitlement_commands import commit_request, reserve_request
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.entitlements import reservations as holds
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["entitlements"])


@fast_route(  # ADR 0860
    router,
    "/v1/entitlements/reservations",
    hot.reserve,
    methods=["POST"],
    openapi_extra=entitlements_wire.RESERVE,
    status_code=201,
    summary="Hold quantity against the customer's balance (atomic; 409 past a hard limit)",
    responses=entitlements_wire.RESERVED,
)
async def reserve(
    response: Response,
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("ingest")),
) -> dict[str, Any]:
    check_tenant(who, body.pop("tenantId", None))
    asked = Parsed.of(lambda: reserve_request(body))  # refused in the transaction, as hot.reserve
    now = state.ctx.clock.now()
    done = await write(state, who, lambda uow: holds.reserve(uow, asked.get(), now))
    if not done.created:
        response.status_code = 200
    return reservation_json(done.reservation, to_micros(now), done.access)


@router.get(
    "/v1/entitlements/reservations/{reservation_id}",
    summary="Get a reservation",
    responses=entitlements_wire.RESERVATION,
)
async def get_reservation(
    reservation_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    found = await read(state, who, lambda uow: holds.get_reservation(uow, reservation_id))
    return reservation_json(found, to_micros(now))


@router.post(
    "/v1/entitlements/reservations/{reservation_id}/commit",
    openapi_extra=entitlements_wire.COMMIT,
    summary="Record the reservation's usage (idempotent; quantity defaults to all)",
    responses=entitlements_wire.RESERVATION,
)
async def commit(
    reservation_id: str,
    body: dict[str, Any] | None = Body(default=None),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("ingest")),
) -> dict[str, Any]:
    data = body or {}
    check_tenant(who, data.pop("tenantId", None))
    asked = commit_request(data)
    now, limits = state.ctx.clock.now(), state.ctx.limits
    found = await write(
        state, who, lambda uow: holds.commit(uow, reservation_id, asked, now, limits)
    )
    return reservation_json(found, to_micros(now))


@router.post(
    "/v1/entitlements/reservations/{reservation_id}/release",
    summary="Free the reservation's hold (idempotent)",
    responses=entitlements_wire.RESERVATION,
)
async def release(
    reservation_id: str,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("ingest")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    found = await write(state, who, lambda uow: holds.release(uow, reservation_id, now))
    return reservation_json(found, to_micros(now))
