"""The embeddable usage page (``/portal?token=...``) and the widget script
(``/portal/embed.js``). Rendered on the server with the dashboard's templates and number
filters; framed only by the tenant's ``frame-ancestors``; a bad token gets a 401 page."""

from __future__ import annotations

import json
import secrets
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from stripemeter_server.api.deps import AppState, app_state, read, run_as_system
from stripemeter_server.api.routes.alerts import rule_json
from stripemeter_server.api.routes.credits import credits_json
from stripemeter_server.api.routes.entitlements.views import access_json
from stripemeter_server.api.routes.portal.auth import acting, admit_token
from stripemeter_server.api.routes.upcoming_invoice import invoice_json
from stripemeter_server.api.schemas.portal_reads import usage_json
from stripemeter_server.api.schemas.usage_answers import cost_json, projection_json
from stripemeter_server.api.ui.web import ui_tools
from stripemeter_server.domain.errors import UnauthorizedError
from stripemeter_server.service.portal import page as portal_page
from stripemeter_server.service.portal.tokens import named_tenant

router = APIRouter(tags=["portal"], include_in_schema=False)

MESSAGES = {
    "expired_portal_token": "This usage link has expired.",
    "revoked_portal_token": "This usage link was revoked.",
}


def security_headers(
    ancestors: tuple[str, ...], nonce: str, logo_url: str | None = None
) -> dict[str, str]:
    """Scripts and styles from this origin only (the theme's variables by nonce), framing
    only by the tenant's allow-list, no referrer (the URL holds the token), no caching."""
    frame = " ".join(ancestors) if ancestors else "'none'"
    logo = urlsplit(logo_url) if logo_url else None
    img = "'self' data:" + (f" {logo.scheme}://{logo.netloc}" if logo else "")
    headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
            f"img-src {img}; connect-src 'self'; frame-ancestors {frame}; "
            "base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if not ancestors:
        headers["X-Frame-Options"] = "DENY"
    return headers


def _render(
    request: Request, template: str, status: int, headers: dict[str, str], **context: Any
) -> HTMLResponse:
    body = ui_tools(request).pages.env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=headers)


async def _unauthorized(
    request: Request, state: AppState, token: str, error: UnauthorizedError
) -> HTMLResponse:
    """The 401 page, framed like the tenant's page when the token names a tenant (so an
    embedding shows the reason instead of a browser error)."""
    tenant = (
        await run_as_system(state, "", lambda uow: named_tenant(uow, token), read_only=True)
        if token
        else None
    )
    ancestors: tuple[str, ...] = ()
    if tenant is not None:
        ancestors = await run_as_system(state, tenant, portal_page.frame_ancestors, read_only=True)
    nonce = secrets.token_urlsafe(16)
    message = MESSAGES.get(error.code, "This usage link is not valid.")
    return _render(
        request,
        "portal_error.html",
        401,
        security_headers(ancestors, nonce),
        message=message,
        code=error.code,
    )


@router.get("/portal", response_class=HTMLResponse)
async def portal(
    request: Request, token: str = Query("", max_length=256), state: AppState = Depends(app_state)
) -> HTMLResponse:
    try:
        grant = (await admit_token(request, state, token)).grant
    except UnauthorizedError as error:
        return await _unauthorized(request, state, token, error)
    now = state.ctx.clock.now()
    found = await read(state, acting(grant, request), lambda uow: portal_page.page(uow, grant, now))
    history = {
        code: [{"start": p.start.isoformat(), "value": str(p.value)} for p in points]
        for code, points in found.history.items()
    }
    nonce = secrets.token_urlsafe(16)
    theme = found.settings
    return _render(
        request,
        "portal.html",
        200,
        security_headers(theme.frame_ancestors, nonce, theme.logo_url),
        nonce=nonce,
        css_variables=theme.css_variables,
        logo_url=theme.logo_url,
        customer=grant.customer_ref,
        metrics=[
            {**usage_json(u), "cost": cost_json(found.costs.get(u.metric.code))}
            for u in found.usage
        ],
        projection=projection_json(found.projection),
        history=history,
        chart=json.dumps(history).replace("<", "\\u003c"),
        rules=[rule_json(r) for r in found.rules],
        entitlements=[access_json(a, grant.customer_ref) for a in found.entitlements],
        credits=credits_json(found.credits),
        upcoming=invoice_json(found.upcoming),
    )


@router.get("/portal/embed.js")
async def embed_script() -> Response:
    """The widget: plain JavaScript, no dependency, served from the package."""
    source = (files("stripemeter_server.api.ui") / "static" / "portal-embed.js").read_text()
    return Response(
        source,
        media_type="text/javascript",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )
