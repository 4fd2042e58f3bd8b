"""What every dashboard route shares: who the operator is, CSRF-checked writes, HTML errors.

A page is read with the session's key, exactly as the JSON API reads with a header key
(``deps.admit_session``): the key's state read on every page, same rate limit, same
tenant. A write needs the session's CSRF token in the form and a key with the ``admin``
scope; both are checked here, on the server, whatever the page showed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from stripemeter_server.api.deps import AppState, admit_session, app_state
from stripemeter_server.api.errors import status_for
from stripemeter_server.api.ui.render import Pages
from stripemeter_server.api.ui.session import COOKIE
from stripemeter_server.domain.errors import ForbiddenError, StripemeterError
from stripemeter_server.service.dashboard.sessions import DashboardSession
from stripemeter_server.service.operations.tenancy import Principal

MAX_FORM_BYTES = 16 * 1024
SIGN_IN_PATH = "/ui/sign-in"


@dataclass(frozen=True)
class Operator:
    """The signed-in operator: the key's principal and the session's CSRF token."""

    who: Principal
    session: DashboardSession

    @property
    def tenant_id(self) -> str:
        return self.who.tenant_id

    @property
    def can_write(self) -> bool:
        return "admin" in self.who.scopes

    @property
    def csrf(self) -> str:
        return self.session.csrf


@dataclass(frozen=True)
class UiTools:
    """The dashboard's per-app parts (kept on ``app.state``, never module-global)."""

    pages: Pages


class SignInRequired(Exception):
    """No session, an expired one, or a revoked key: go to the sign-in page."""


def ui_tools(request: Request) -> UiTools:
    tools: UiTools = request.app.state.stripemeter_ui
    return tools


async def operator(request: Request) -> Operator:
    """The operator of a page, or ``SignInRequired``."""
    state = app_state(request)
    session = await admit_session(request, state, request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired()
    found = Operator(session.who, session)
    request.state.operator = found
    return found


async def read_form(request: Request) -> dict[str, str]:
    """A URL-encoded form body, bounded (the last value of a repeated field wins)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ForbiddenError("the form is too large", code="form_too_large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ForbiddenError("the form is not UTF-8", code="invalid_form") from None
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=64))


async def writer(request: Request) -> tuple[Operator, dict[str, str]]:
    """A write's operator and form, after the CSRF token and the ``admin`` scope checked."""
    who = await operator(request)
    form = await read_form(request)
    presented = form.get("csrf") or request.headers.get("x-csrf-token")
    if not who.session.csrf_matches(presented):
        raise ForbiddenError(
            "the form's CSRF token is missing or wrong; reload the page", code="csrf_failed"
        )
    if not who.can_write:
        raise ForbiddenError(
            "this API key is read-only (it lacks the 'admin' scope)", code="missing_scope"
        )
    return who, form


def back_to(path: str, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get: a write answers with the page to show next (303)."""
    target = f"{path}{'&' if '?' in path else '?'}notice={quote(notice)}" if notice else path
    return RedirectResponse(target, status_code=303)


class UiRoute(APIRoute):
    """Renders errors as an HTML page (the JSON API answers problem details instead)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return RedirectResponse(SIGN_IN_PATH, status_code=303)
            except StripemeterError as error:
                status = status_for(error)
                return ui_tools(request).pages.render(
                    request,
                    "error.html",
                    status_code=status,
                    status=status,
                    message=str(error),
                    code=error.code,
                )

        return guarded


def state_of(request: Request) -> AppState:
    return app_state(request)
