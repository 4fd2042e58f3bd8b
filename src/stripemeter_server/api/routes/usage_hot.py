"""The fast path of ``GET /v1/usage/current`` (ADR 0860): the read issue 19 times.

The declared endpoint (``routes/usage.py``) stays the one place that reads and renders; the
fast path only resolves what FastAPI would have — the query parameters (each once, none
empty, no other), the key from the process's cache (ADR 0830) — calls the endpoint with
them and renders its ``dict`` as FastAPI does. Anything else (a missing or repeated
parameter, say) goes to FastAPI's handler, so its 422 is FastAPI's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from stripemeter_server.api.cached_reads import Reader
from stripemeter_server.api.deps import admit_cached, app_state
from stripemeter_server.api.fast_path import guard_params, plain_query

_CURRENT = frozenset({"customerRef", "metric", "tenantId"})


async def current(request: Request, declared: Callable[..., Any]) -> Response | None:
    params = plain_query(request, _CURRENT)
    if params is None or "customerRef" not in params:
        return None
    guard_params(request)
    state = app_state(request)
    who, check = await admit_cached(request, state, "read")
    answer = await declared(
        request,
        customer_ref=params["customerRef"],
        metric=params.get("metric"),
        tenant_id=params.get("tenantId"),
        state=state,
        admitted=Reader(who, "read", check),
    )
    return JSONResponse(answer)
