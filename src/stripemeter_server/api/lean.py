"""Lean routes: documented by FastAPI like any other, served without dependency solving.

On the ingest hot path FastAPI's per-request work (solving the dependency tree, building
the app-wide guard's and the admission's dependants) cost a large share of a one-event
request. A :class:`LeanRoute` keeps its declaration — path, summary, ``openapi_extra``,
the app's problem responses — so the OpenAPI entry is generated exactly as before, but its
handler is the endpoint itself: an ``async (Request) -> Response`` that admits the request
and reads the body on its own. Errors still go through the app's exception handlers, so
problem bodies are the same bytes. The app-wide guard's parameter check runs here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute

from stripemeter_server.api.guard import check_params

LeanEndpoint = Callable[[Request], Awaitable[Response]]


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = cast(LeanEndpoint, self.endpoint)

        async def handler(request: Request) -> Response:
            if request.scope.get("query_string") or request.scope.get("path_params"):
                check_params(request)
            return await endpoint(request)

        return handler
