"""The fast paths of the portal reads with query parameters (ADR 0880): ``/history`` and
``/upcoming-invoice``, in front of their declared FastAPI endpoints (``api/fast_path.py``,
ADR 0860); and ``lean``, the parameterless reads' (ADR 0937).

A fast path only resolves what FastAPI would have — the query (each declared parameter at
most once, none empty, none longer than declared, ``limit`` a plain integer in range), the
app-wide guard's checks and the token (from the process's cache, re-checked in the read's
transaction: ADR 0830) — then calls the declared endpoint with them and renders its
``dict`` as FastAPI does. Anything else goes to FastAPI's handler, so every 422 stays
FastAPI's own, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from stripemeter_server.api.deps import app_state
from stripemeter_server.api.fast_path import guard_params, plain_query
from stripemeter_server.api.routes.portal.auth import portal_reader
from stripemeter_server.api.serialize import PAGE_DEFAULT
from stripemeter_server.service.usage.reads import MAX_HISTORY_POINTS

# Each parameter's declared ``max_length`` (the routes' ``Query`` declarations).
_HISTORY = {"metric": 255, "from": 64, "to": 64, "step": 8, "limit": 8}
_UPCOMING = {"at": 64}


def _query(request: Request, declared: dict[str, int]) -> dict[str, str] | None:
    params = plain_query(request, frozenset(declared))
    if params is None or any(len(value) > declared[name] for name, value in params.items()):
        return None
    return params


def _limit(text: str | None) -> int | None:
    """``limit`` as FastAPI would take it, or ``None`` for anything it might judge."""
    if text is None:
        return PAGE_DEFAULT
    if not text.isascii() or not text.isdigit() or text[0] == "0":
        return None
    value = int(text)
    return value if value <= MAX_HISTORY_POINTS else None


async def history(request: Request, declared: Callable[..., Any]) -> Response | None:
    params = _query(request, _HISTORY)
    if params is None or "metric" not in params:
        return None
    limit = _limit(params.get("limit"))
    if limit is None:
        return None
    guard_params(request)
    state = app_state(request)
    answer = await declared(
        request,
        metric=params["metric"],
        start=params.get("from"),
        end=params.get("to"),
        step=params.get("step", "day"),
        limit=limit,
        state=state,
        reader=await portal_reader(request, state),
    )
    return JSONResponse(answer)


async def upcoming_invoice(request: Request, declared: Callable[..., Any]) -> Response | None:
    params = _query(request, _UPCOMING)
    if params is None:
        return None
    guard_params(request)
    state = app_state(request)
    answer = await declared(
        request, at=params.get("at"), state=state, reader=await portal_reader(request, state)
    )
    return JSONResponse(answer)


async def lean(request: Request, declared: Callable[..., Any]) -> Response:
    """A parameterless read's endpoint, as a lean route serves it (``api/lean.py``): the
    guard's checks, then the endpoint itself. Never declines: the route is in the dispatch
    table only so that it is found without the router's route matching."""
    guard_params(request)
    answer: Response = await declared(request)
    return answer
