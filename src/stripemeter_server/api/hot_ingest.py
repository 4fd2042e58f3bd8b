"""``POST /v1/events/ingest`` served ahead of the middleware stack and the router (ADR 0886).

Every integration pattern sends one event per request, so the ingest route's fixed cost per
request is the product's ceiling. Through the full stack a request passed eight ASGI layers
(the error middleware, request context, body limit, two path-filtering header middlewares,
the exception middleware, FastAPI's exit stack, the router's walk of every included router)
before the lean route's handler (``api/lean.py``) ran. Here the app itself recognises the
route's exact method and path and runs, in one layer, what those layers do *for this route*:

* the request id (``middleware.request_id_of``), echoed in ``x-request-id``;
* the body limit (``BodyLimitMiddleware.read``: the same 413 problem, declared or counted);
* the route's handler (the ``LeanRoute``'s own: parameter guard, admission, decode, commit);
* errors through the app's own exception handlers (the same problem bodies); anything else
  answered with Starlette's ``ServerErrorMiddleware``'s plain 500, as the full stack does
  (its answer built only then: no wrapper per request, ADR 0975);
* the latency histogram and the request's log line, as ``RequestContextMiddleware`` writes
  them (a body-limit refusal is logged as ``unmatched``, as before: it precedes routing).

A plain answer is sent as ``Response.__call__`` sends it, its head with ``x-request-id``
added, without a copy of each message (ADR 0975). Anything else — another method or path,
a ``root_path``, FastAPI's own telemetry enabled — goes through the full stack. The
OpenAPI entry is the route's, declared as before.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from stripemeter_server.api.guard import BodyLimitMiddleware, replay
from stripemeter_server.api.logs import request_line
from stripemeter_server.api.middleware import request_id_of
from stripemeter_server.api.telemetry import Telemetry

if TYPE_CHECKING:
    from stripemeter_server.api.hot_reads import HotReads

INGEST_PATH = "/v1/events/ingest"
Handler = Callable[[Request], Awaitable[Response]]


class HotIngest:
    """The ingest route's requests in one ASGI layer (see the module's docstring)."""

    def __init__(
        self, app: FastAPI, routes: Sequence[BaseRoute], telemetry: Telemetry, max_body_bytes: int
    ) -> None:
        """``routes``: the router declaring the ingest route (FastAPI keeps included routers
        nested, so the app's own list does not hold it)."""
        self._app = app
        self._telemetry = telemetry
        self._limit = BodyLimitMiddleware(app, max_body_bytes)
        self._route = _ingest_route(routes)
        self._handler: Handler = self._route.get_route_handler()
        self._errors = ServerErrorMiddleware(app, debug=app.debug)  # for its error answers
        self._series: dict[tuple[str, int], Any] = {}

    def serves(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["path"] == INGEST_PATH
            and scope["method"] == "POST"
            and not scope.get("root_path")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``ServerErrorMiddleware``'s part, paid only on an error (ADR 0975): an exception
        before the answer started is answered with its plain 500 (sent without the request
        id, as the middleware's own ``send`` does), then raised again for the server to log."""
        reply = Reply(send)
        try:
            await self._serve(scope, receive, send, reply)
        except Exception as exc:
            if not reply.started:
                await plain_500(self._errors, scope, receive, send, exc)
            raise

    async def _serve(self, scope: Scope, receive: Receive, send: Send, reply: Reply) -> None:
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        reply.echoed = (b"x-request-id", request_id.encode("latin-1"))
        started = time.perf_counter()
        try:
            body = await self._limit.read(scope, receive, reply.send)
            if body is not None:
                scope["route"] = self._route  # the template, for the log line and the guard
                request = Request(scope, replay(body, receive), reply.send)
                response = await self._answer(request)
                await reply.respond(response, scope, receive)
        finally:
            template = self._route.path if "route" in scope else "unmatched"
            elapsed = time.perf_counter() - started
            self._latency(template, reply.status).observe(elapsed)
            tenant = scope["state"].get("tenant_id")  # set once the key is authenticated
            request_line(request_id, tenant, template, "POST", reply.status, elapsed)

    def _latency(self, template: str, status: int) -> Any:
        """The latency histogram's series: ``labels`` takes a lock and builds its key on
        every call, so each route template and status's series is looked up once."""
        series = self._series.get((template, status))
        if series is None:
            series = self._telemetry.requests.labels(template, "POST", str(status))
            self._series[(template, status)] = series
        return series

    async def _answer(self, request: Request) -> Response:
        answer = await answer_or_handle(self._app, request, lambda: self._handler(request))
        assert answer is not None  # the route's handler always answers
        return answer


_PLAIN_CALL = Response.__call__


class Reply:
    """A request's ``send``: notes the status and adds ``x-request-id`` to the answer's
    head. ``answer`` sends a plain ``Response`` as ``Response.__call__`` would (its head,
    then its body), without the message copies of going through ``send`` (ADR 0975)."""

    __slots__ = ("_send", "echoed", "started", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.echoed = (b"x-request-id", b"")
        self.started = False
        self.status = 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started, self.status = True, message["status"]
            message = {**message, "headers": [*message.get("headers", []), self.echoed]}
        await self._send(message)

    async def respond(self, response: Response, scope: Scope, receive: Receive) -> None:
        """``response`` sent: a plain one by ``answer``, any other through ``send``."""
        if response.background is None and type(response).__call__ is _PLAIN_CALL:
            await self.answer(response)  # what ``Response.__call__`` sends
        else:
            await response(scope, receive, self.send)

    async def answer(self, response: Response) -> None:
        self.started, self.status = True, response.status_code
        head = [*response.raw_headers, self.echoed]
        await self._send({"type": "http.response.start", "status": self.status, "headers": head})
        await self._send({"type": "http.response.body", "body": response.body})


async def plain_500(
    errors: ServerErrorMiddleware, scope: Scope, receive: Receive, send: Send, exc: Exception
) -> None:
    """``ServerErrorMiddleware``'s answer to an unhandled ``exc`` (its plain 500, or its
    debug page), sent without the request id as the middleware's own ``send`` does: a hot
    layer pays for the middleware only on an error (ADR 0975, 0982)."""
    request = Request(scope)
    if errors.debug:
        response = await run_in_threadpool(errors.debug_response, request, exc)
    else:
        response = errors.error_response(request, exc)
    await response(scope, receive, send)


def _ingest_route(routes: Sequence[BaseRoute]) -> APIRoute:
    for route in routes:
        if (
            isinstance(route, APIRoute)
            and route.path == INGEST_PATH
            and "POST" in (route.methods or ())
        ):
            return route
    raise LookupError(f"no POST {INGEST_PATH} route")


async def answer_or_handle(
    app: FastAPI, request: Request, call: Callable[[], Awaitable[Response | None]]
) -> Response | None:
    """``call()``'s answer, or the app's exception handler's for what it raised (the
    exception middleware's part, for a layer ahead of it); an unhandled error propagates."""
    try:
        return await call()
    except Exception as exc:
        handler = _handler_for(app.exception_handlers, exc)
        if handler is None:
            raise
        answer = handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer  # type: ignore[no-any-return]


def _handler_for(handlers: dict[Any, Any], exc: Exception) -> Any:
    """The app's handler for ``exc`` (by its class, nearest first, as Starlette looks up)."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class StripemeterApp(FastAPI):
    """The FastAPI app, with :class:`HotIngest` and the hot reads (``api/hot_reads.py``) in
    front once ``create_app`` sets them."""

    hot: HotIngest | None = None
    reads: HotReads | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot, reads = self.hot, self.reads
        if scope["type"] == "http" and not self.root_path and not _traced(self):
            if hot is not None and hot.serves(scope):
                scope["app"] = self
                await hot(scope, receive, send)
                return
            if reads is not None and reads.serves(scope):
                scope["app"] = self
                declined = await reads(scope, receive, send)
                if declined is None:
                    return
                receive = declined  # a body already read is handed on
        await super().__call__(scope, receive, send)


def _traced(app: FastAPI) -> bool:
    """FastAPI's own OpenTelemetry wrapper is on (then the full stack serves, traced)."""
    native = getattr(app, "_native_telemetry", None)
    return native is not None and bool(native.enabled())
