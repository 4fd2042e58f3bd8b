"""The fast-path routes served ahead of the middleware stack and the router (ADR 0954, 0960).

``GET /v1/usage/current``, ``/periods`` and ``/history``, the entitlement ``GET`` and the
entitlement ``POST``s (``/v1/entitlements/check`` and ``/v1/entitlements/reservations``)
have fast handlers (``api/fast_path.py``) found by the dispatch table
(``api/fast_dispatch.py``), but a request still passed the layers in front of that table:
the error middleware, the request context, the body limit, the portal's CORS filter, the
exception middleware and FastAPI's exit stack — about a fifth of a current-usage read's CPU
once its read was one statement. Here the app itself recognises those routes, as it does
the ingest route (``api/hot_ingest.py``), and does in one layer what those layers do for
them:

* the request id (``middleware.request_id_of``), echoed in ``x-request-id``;
* for a ``POST``, the body limit (``BodyLimitMiddleware.read``: the same 413 problem,
  declared or counted, logged as ``unmatched`` since it precedes routing); a ``GET`` with a
  body is not served here (the body limit judges it in the full stack);
* the route's fast handler, its errors through the app's own exception handlers (the same
  problem bodies); anything else answered with Starlette's ``ServerErrorMiddleware``'s plain
  500, built only then (no wrapper per request, ADR 0982);
* the latency histogram and the request's log line, as ``RequestContextMiddleware`` writes
  them.

A plain answer is sent as ``Response.__call__`` sends it, its head with ``x-request-id``
added, without a copy of each message (``hot_ingest.Reply``, ADR 0975, 0982).

A request the fast handler declines (it returns ``None`` before doing anything: a repeated
or missing parameter, a body that is not a JSON object) goes through the full stack
unchanged — a body already read is handed on —, as does anything else: another method, a
``root_path``, a path under ``/portal/`` (its CORS headers), FastAPI's own telemetry
enabled.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from stripemeter_server.api.fast_dispatch import FastDispatch
from stripemeter_server.api.fast_path import FastPathRoute
from stripemeter_server.api.guard import BodyLimitMiddleware, replay
from stripemeter_server.api.hot_ingest import Reply, answer_or_handle, plain_500
from stripemeter_server.api.logs import request_line
from stripemeter_server.api.middleware import request_id_of
from stripemeter_server.api.telemetry import Telemetry

_FOUND = "stripemeter.hot_read"  # the route and its path parameters, for ``_serve``
_DECLINED = "stripemeter.hot_read_declined"  # the fast handler declined: nothing was sent
_BODY = "stripemeter.hot_read_body"  # a declined ``POST``'s body, for the full stack
_PORTAL = "/portal/"
_METHODS = ("GET", "POST")


def _hot(route: BaseRoute) -> bool:
    return (
        isinstance(route, FastPathRoute)
        and bool(set(route.methods or ()) & set(_METHODS))
        and not route.path.startswith(_PORTAL)
    )


class HotReads:
    """The fast-path routes in one ASGI layer (see the module's docstring)."""

    def __init__(
        self,
        app: FastAPI,
        routes: Iterable[BaseRoute],
        telemetry: Telemetry,
        max_body_bytes: int,
    ) -> None:
        self._app = app
        self._telemetry = telemetry
        self._limit = BodyLimitMiddleware(app, max_body_bytes)
        self._table = FastDispatch(app, [route for route in routes if _hot(route)])
        self._errors = ServerErrorMiddleware(app, debug=app.debug)  # for its error answers
        # each (route, method, status)'s latency series, looked up once (ADR 0971)
        self._series: dict[tuple[str, str, int], Any] = {}

    def serves(self, scope: Scope) -> bool:
        """Whether this layer serves the request (it notes the route on the scope)."""
        method = scope["method"]
        if scope["type"] != "http" or method not in _METHODS or scope.get("root_path"):
            return False
        if method == "GET" and any(_body(name, value) for name, value in scope.get("headers", ())):
            return False
        found = self._table.find(method, scope["path"])
        if found is None:
            return False
        scope[_FOUND] = found
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Serve the request; when its fast handler declined (nothing was sent, the scope is
        as it came), the ``receive`` the full stack must answer it with.

        ``ServerErrorMiddleware``'s part is paid only on an error (ADR 0982, as ADR 0975 for
        the ingest route): an exception before the answer started is answered with its
        plain 500, then raised again for the server to log."""
        reply = Reply(send)
        try:
            await self._serve(scope, receive, reply)
        except Exception as exc:
            if not reply.started:
                await plain_500(self._errors, scope, receive, send, exc)
            raise
        if not scope.pop(_DECLINED, False):
            return None
        body: bytes | None = scope.pop(_BODY, None)
        return receive if body is None else replay(body, receive)

    async def _serve(self, scope: Scope, receive: Receive, reply: Reply) -> None:
        route, params = scope.pop(_FOUND)
        method: str = scope["method"]
        request_id = request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        reply.echoed = (b"x-request-id", request_id.encode("latin-1"))
        started = time.perf_counter()
        try:
            if method == "POST":
                body = await self._limit.read(scope, receive, reply.send)
                if body is None:
                    return  # refused (413) before routing, as the body limit does
                scope[_BODY] = body
                receive = replay(body, receive)
            scope["path_params"] = params
            scope["endpoint"] = route.endpoint
            scope["route"] = route  # the template, for the log line
            request = Request(scope, receive, reply.send)
            response = await answer_or_handle(
                self._app, request, lambda: route.fast(request, route.endpoint)
            )
            if response is None:
                _undo(scope)
                return
            scope.pop(_BODY, None)
            await reply.respond(response, scope, receive)
        finally:
            if not scope.get(_DECLINED):
                scope.pop(_BODY, None)
                template = route.path if "route" in scope else "unmatched"
                elapsed = time.perf_counter() - started
                self._latency(template, method, reply.status).observe(elapsed)
                tenant = state.get("tenant_id")  # set once the key is authenticated
                request_line(request_id, tenant, template, method, reply.status, elapsed)

    def _latency(self, template: str, method: str, status: int) -> Any:
        """The latency histogram's series for a route, method and status: ``labels`` takes
        a lock and builds its key each time (~1 % of a fast read's CPU)."""
        key = (template, method, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self._telemetry.requests.labels(
                template, method, str(status)
            )
        return series


def _body(name: bytes, value: bytes) -> bool:
    """A header announcing a request body (``Content-Length: 0`` announces none)."""
    return name == b"transfer-encoding" or (name == b"content-length" and value != b"0")


def _undo(scope: Scope) -> None:
    """The scope as the full stack expects it, once the fast handler declined."""
    for key in ("path_params", "endpoint", "route"):
        scope.pop(key, None)
    scope["state"].pop("request_id", None)
    scope[_DECLINED] = True
