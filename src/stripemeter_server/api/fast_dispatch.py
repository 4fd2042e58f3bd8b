"""A dispatch table for the fast-path routes, in front of the app's router (ADR 0883).

FastAPI finds a route by trying the app's routes one after another — and, for routes of an
included router, matches them twice (once to find the router, once to handle) — which was
13-20 % of the CPU of an entitlement check. The few routes with a fast path
(``api/fast_path.py``) are looked up here instead, by method and path (a dictionary for a
plain path, a comparison of segments for one with ``{parameters}``), and their fast handler
is called directly. The routes themselves are untouched (same OpenAPI document), and the
table sits inside the exception middleware, so an error raised on the fast path is rendered
by the app's handlers exactly as it was inside the route.

Anything the table does not know — another method or path, a root path, a parameter with a
convertor — and any request whose fast handler declines goes to the router unchanged (a
body already read is handed on), so every other answer (404, 405, 422, a redirect) is the
router's own; the route then skips its fast handler (``DECLINED``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripemeter_server.api.fast_path import DECLINED, FastPathRoute

_METHODS = ("GET", "POST")  # HEAD and the rest go to the router


@dataclass(frozen=True, slots=True)
class _Entry:
    route: FastPathRoute
    segments: tuple[str | None, ...]  # the path's segments; ``None`` where a parameter is
    names: tuple[str, ...]  # the parameters' names, in order

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when ``segments`` fit (each parameter one non-empty segment,
        as Starlette's ``str`` convertor matches ``[^/]+``)."""
        values: list[str] = []
        for fixed, given in zip(self.segments, segments, strict=True):
            if fixed is None:
                if not given:
                    return None
                values.append(given)
            elif fixed != given:
                return None
        return dict(zip(self.names, values, strict=True))


def _entry(route: FastPathRoute) -> _Entry | None:
    """The route as a table entry; ``None`` for a template the table does not match (a
    convertor, or a parameter that is not a whole segment)."""
    segments: list[str | None] = []
    names: list[str] = []
    for part in route.path.split("/"):
        if "{" not in part and "}" not in part:
            segments.append(part)
        elif part.startswith("{") and part.endswith("}") and part[1:-1].isidentifier():
            segments.append(None)
            names.append(part[1:-1])
        else:
            return None
    return _Entry(route, tuple(segments), tuple(names))


class FastDispatch:
    """ASGI app in front of the router: fast-path routes by table, the rest to ``app``."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self._plain: dict[tuple[str, str], _Entry] = {}
        self._templated: dict[tuple[str, int], list[_Entry]] = {}
        for route in routes:
            if not isinstance(route, FastPathRoute) or (entry := _entry(route)) is None:
                continue
            for method in sorted(set(route.methods or ()) & set(_METHODS)):
                if entry.names:
                    key = (method, len(entry.segments))
                    self._templated.setdefault(key, []).append(entry)
                else:
                    self._plain.setdefault((method, route.path), entry)

    def find(self, method: str, path: str) -> tuple[FastPathRoute, dict[str, str]] | None:
        """The fast-path route serving ``method path``, with its path parameters."""
        plain = self._plain.get((method, path))
        if plain is not None:
            return plain.route, {}
        segments = path.split("/")
        for entry in self._templated.get((method, len(segments)), ()):
            params = entry.match(segments)
            if params is not None:
                return entry.route, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self.find(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, params = found
        scope["path_params"] = params
        scope["endpoint"] = route.endpoint
        scope["route"] = route  # the request's log line and metrics name its template
        request = Request(scope, receive, send)
        response = await route.fast(request, route.endpoint)
        if response is not None:
            await response(scope, receive, send)
            return
        scope[DECLINED] = True
        await self.app(scope, _replay(await request.body(), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the router, the body the fast handler read (or left) first."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def install_fast_dispatch(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Put the table of ``routers``' fast-path routes in front of the app's router (inside
    the app's middleware and exception handlers)."""
    routes = [route for router in routers for route in router.routes]
    app.router.middleware_stack = FastDispatch(app.router.middleware_stack, routes)
