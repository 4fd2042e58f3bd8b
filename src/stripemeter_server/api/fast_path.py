"""Routes with a lean fast path in front of FastAPI's own handler (ADR 0860).

A hot read (an entitlement check, a reservation, current usage) is declared like any other
route — parameters, body and answer documented by FastAPI, so its OpenAPI entry is the one
it always had — but a request first meets a *fast* handler, ``async (request, declared
endpoint) -> Response | None``, that admits it and reads its parameters and body itself
(no dependency solving, no request or response model). A request it cannot answer exactly
as FastAPI would (a missing or repeated parameter, a body that is not a JSON object, an
unusual content type) makes it return ``None`` *before doing anything*, and FastAPI's
handler serves it: every 422 stays FastAPI's, byte for byte. Errors raised on the fast
path go through the app's exception handlers, as the ingest route's do (``api/lean.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter

from stripemeter_server.api.guard import check_params, refuse_unsafe_body

# ``fast(request, declared)``: ``declared`` is the route's own endpoint, for a fast path that
# only resolves the parameters itself and lets the endpoint do the rest.
FastEndpoint = Callable[[Request, Callable[..., Any]], Awaitable[Response | None]]

# Set on the scope by the dispatch table (``api/fast_dispatch.py``) when the fast handler
# declined there: the route then goes straight to FastAPI's handler.
DECLINED = "stripemeter.fast_path_declined"


class FastPathRoute(APIRoute):
    """A route serving its ``fast`` handler first and the declared endpoint when it declines."""

    fast: FastEndpoint

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        declared = self.endpoint
        fast = self.fast

        async def handler(request: Request) -> Response:
            if request.scope.get(DECLINED):
                return await full(request)
            answer = await fast(request, declared)
            return answer if answer is not None else await full(request)

        return handler


def fast_path(fast: FastEndpoint) -> type[FastPathRoute]:
    """A route class serving ``fast`` first and the declared endpoint when it declines."""
    return type("FastPathRoute", (FastPathRoute,), {"fast": staticmethod(fast)})


def guard_params(request: Request) -> None:
    """The app-wide guard's path and query checks (the fast path skips the dependency)."""
    if request.scope.get("query_string") or request.scope.get("path_params"):
        check_params(request)


def plain_query(request: Request, declared: frozenset[str]) -> dict[str, str] | None:
    """The query as one value per declared name, or ``None`` when FastAPI should judge it
    (an undeclared, repeated or empty parameter)."""
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items) or not params.keys() <= declared or "" in params.values():
        return None
    return params


async def json_object(request: Request) -> dict[str, Any] | None:
    """The body as FastAPI reads a ``dict`` body (the standard decoder), when it is a JSON
    object sent as ``application/json`` (or with no content type); ``None`` otherwise, for
    FastAPI's handler to answer. The guard's body check runs here too."""
    content_type = request.headers.get("content-type")
    if content_type is not None and content_type != "application/json":
        return None
    body = await request.body()
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    guard_params(request)
    refuse_unsafe_body(data)
    return data


def fast_route(
    router: APIRouter, path: str, fast: FastEndpoint, *, methods: list[str], **declared: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@router.get``/``@router.post`` with ``fast`` in front of the declared endpoint."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(
            path, endpoint, methods=methods, route_class_override=fast_path(fast), **declared
        )
        return endpoint

    return register
