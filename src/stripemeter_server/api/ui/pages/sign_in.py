"""Sign in with an API key, sign out. The sign-in form carries a double-submit token (its
own cookie) so another site cannot sign a browser in with the attacker's key."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from stripemeter_server.api.deps import run_as_system, write
from stripemeter_server.api.ui.session import COOKIE, COOKIE_PATH, SIGN_IN_COOKIE, tokens_match
from stripemeter_server.api.ui.web import (
    SIGN_IN_PATH,
    UiRoute,
    operator,
    read_form,
    state_of,
    ui_tools,
)
from stripemeter_server.domain.errors import ForbiddenError, UnauthorizedError
from stripemeter_server.service.dashboard.sessions import DEFAULT_TTL, end_session, start_session

router = APIRouter(route_class=UiRoute)


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/ui")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/overview", status_code=303)


@router.get(SIGN_IN_PATH)
async def sign_in_page(request: Request, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = ui_tools(request).pages.render(
        request, "sign_in.html", token=token, error=error, operator=None
    )
    _cookie(response, request, SIGN_IN_COOKIE, token, 600)
    return response


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    if not tokens_match(form.get("token"), request.cookies.get(SIGN_IN_COOKIE)):
        raise ForbiddenError("the sign-in form expired; reload the page", code="csrf_failed")
    key = form.get("key", "").strip()
    state = state_of(request)
    now = state.ctx.clock.now()
    try:
        token, _ = await run_as_system(
            state, "", lambda uow: start_session(uow, key, now), read_only=False
        )
    except UnauthorizedError:
        return RedirectResponse(f"{SIGN_IN_PATH}?error=invalid", status_code=303)
    response = RedirectResponse("/ui/overview", status_code=303)
    _cookie(response, request, COOKIE, token, int(DEFAULT_TTL.total_seconds()))
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/ui/sign-out")
async def sign_out(request: Request) -> Response:
    who = await operator(request)
    form = await read_form(request)
    if not who.session.csrf_matches(form.get("csrf")):
        raise ForbiddenError("the form's CSRF token is missing or wrong", code="csrf_failed")
    token = request.cookies.get(COOKIE)
    await write(state_of(request), who.who, lambda uow: end_session(uow, token))
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
