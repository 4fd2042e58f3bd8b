"""Minting, listing and revoking portal tokens, and the tenant's portal settings: the
tenant's own API keys only (``admin``, or the ``portal`` scope for tokens)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Response

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require, write
from stripemeter_server.api.schemas import portal as portal_wire
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.portal import settings as portal_settings
from stripemeter_server.service.portal import tokens as portal_tokens

router = APIRouter(tags=["portal"])


@router.post(
    "/v1/portal/tokens",
    openapi_extra=portal_wire.TOKEN,
    status_code=201,
    responses=portal_wire.MINTED_ANSWER,
    summary="Mint a short-lived portal token for one customer",
)
async def mint(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("portal")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    wanted = portal_wire.parse_token_request(body)
    now = state.ctx.clock.now()
    minted = await write(
        state, who, lambda uow: portal_tokens.mint_token(uow, wanted, who.key_id, now)
    )
    return portal_wire.minted_view(minted)


@router.get(
    "/v1/portal/tokens",
    responses=portal_wire.TOKENS_ANSWER,
    summary="The tenant's portal tokens, newest first",
)
async def list_tokens(
    customer_ref: str | None = Query(None, alias="customerRef", max_length=255),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("portal")),
) -> dict[str, Any]:
    found = await read(state, who, lambda uow: portal_tokens.list_tokens(uow, customer_ref))
    return portal_wire.token_list(found)


@router.delete(
    "/v1/portal/tokens/{token_id}", status_code=204, summary="Revoke a portal token at once"
)
async def revoke(
    token_id: str, state: AppState = Depends(app_state), who: Principal = Depends(require("portal"))
) -> Response:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: portal_tokens.revoke_token(uow, token_id[:64], now))
    return Response(status_code=204)


@router.get(
    "/v1/portal/settings",
    responses=portal_wire.SETTINGS_ANSWER,
    summary="The tenant's portal settings",
)
async def get_settings(
    state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    found = await read(state, who, portal_settings.get_settings)
    return portal_wire.settings_view(found)


@router.put(
    "/v1/portal/settings",
    openapi_extra=portal_wire.SETTINGS,
    responses=portal_wire.SETTINGS_ANSWER,
    summary="Set the portal's allowed origins, frame ancestors and theme",
)
async def put_settings(
    body: dict[str, Any] = Body(),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    check_tenant(who, body.get("tenantId"))
    wanted = portal_wire.parse_settings(body)
    now = state.ctx.clock.now()
    found = await write(state, who, lambda uow: portal_settings.put_settings(uow, wanted, now))
    return portal_wire.settings_view(found)
