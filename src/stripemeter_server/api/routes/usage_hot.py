"""The fast paths of the usage reads issue 19 times (ADR 0860, ADR 0941).

``GET /v1/usage/current``:
it resolves what FastAPI would have — the query parameters (each once, none empty, no
other), the key from the process's cache (ADR 0830) — and reads everything the answer needs
in one statement, the tenant's key stamp included (``CurrentReads``, ADR 0941); the answer
is the declared endpoint's (``routes/usage.py``: the same ``current_view``), encoded by
msgspec to the bytes ``JSONResponse`` writes. Anything else (a missing or repeated
parameter, say) goes to FastAPI's handler, so its 422 is FastAPI's own.

``GET /v1/usage/periods`` and ``/history``: the query resolved the same way (a ``limit``
is left to FastAPI, which validates it), then the declared endpoint called with it — one
place reads and renders — and its ``dict`` encoded as FastAPI renders it. What they skip is
FastAPI's route matching and dependency solving (ADR 0883 measured those at 13-20 % of a
fast read's CPU).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from stripemeter_server.api.cached_reads import Reader, read_stamped
from stripemeter_server.api.deps import admit_cached, app_state, check_tenant
from stripemeter_server.api.fast_path import guard_params, plain_query
from stripemeter_server.api.json_body import encode_plain
from stripemeter_server.api.schemas import usage_answers as answers
from stripemeter_server.api.serialize import PAGE_DEFAULT
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage.current import (
    CurrentAnswer,
    PeriodsAnswer,
    current_from,
    periods_from,
)

_CURRENT = frozenset({"customerRef", "metric", "tenantId"})


def _read(
    customer_ref: str, now: datetime, metric: str | None
) -> Callable[[UnitOfWork], tuple[KeyStamp, Callable[[], CurrentAnswer]]]:
    def read(uow: UnitOfWork) -> tuple[KeyStamp, Callable[[], CurrentAnswer]]:
        inputs = uow.current_reads.current_inputs(customer_ref, to_micros(now))
        return inputs.stamp, lambda: current_from(inputs, customer_ref, now, metric)

    return read


def periods_read(
    customer_ref: str, metric: str, start: datetime, end: datetime, now: datetime
) -> Callable[[UnitOfWork], tuple[KeyStamp, Callable[[], PeriodsAnswer]]]:
    """``GET /v1/usage/periods``'s read (ADR 0961): one statement, its key stamp first."""

    def read(uow: UnitOfWork) -> tuple[KeyStamp, Callable[[], PeriodsAnswer]]:
        inputs = uow.current_reads.period_inputs(
            customer_ref, metric, to_micros(start), to_micros(end)
        )
        return inputs.stamp, lambda: periods_from(inputs, customer_ref, metric, (start, end), now)

    return read


async def current(request: Request, _: object) -> Response | None:
    params = plain_query(request, _CURRENT)
    if params is None or "customerRef" not in params:
        return None
    guard_params(request)
    state = app_state(request)
    who, check = await admit_cached(request, state, "read")
    check_tenant(who, params.get("tenantId"))
    customer_ref = params["customerRef"]
    now = state.ctx.clock.now()
    found, costs, held = await read_stamped(
        request,
        state,
        Reader(who, "read", check),
        _read(customer_ref, now, params.get("metric")),
        on_loop=True,  # SQLite: on the event loop, never waiting (ADR 0961)
    )
    body = encode_plain(answers.current_view(customer_ref, now, found, costs, held))
    return Response(body, media_type="application/json")


_PERIODS = frozenset({"customerRef", "metric", "from", "to", "tenantId"})
_HISTORY = _PERIODS | {"step", "groupBy"}
_REQUIRED = ("customerRef", "metric", "from", "to")


async def _declared_read(
    request: Request, declared: Callable[..., Any], names: frozenset[str], **defaults: Any
) -> Response | None:
    params = plain_query(request, names)
    if params is None or not all(name in params for name in _REQUIRED):
        return None
    guard_params(request)
    state = app_state(request)
    who, check = await admit_cached(request, state, "read")
    answer = await declared(
        request,
        customer_ref=params["customerRef"],
        metric=params["metric"],
        start=params["from"],
        end=params["to"],
        limit=PAGE_DEFAULT,
        tenant_id=params.get("tenantId"),
        state=state,
        admitted=Reader(who, "read", check),
        **{key: params.get(name, default) for key, (name, default) in defaults.items()},
    )
    return Response(encode_plain(answer), media_type="application/json")


async def periods(request: Request, declared: Callable[..., Any]) -> Response | None:
    return await _declared_read(request, declared, _PERIODS)


async def history(request: Request, declared: Callable[..., Any]) -> Response | None:
    return await _declared_read(
        request, declared, _HISTORY, step=("step", "day"), group_by=("groupBy", None)
    )
