"""The fast paths of the usage reads issue 19 times (ADR 0860, ADR 0941).

``GET /v1/usage/current``:
it resolves what FastAPI would have — the query parameters (each once, none empty, no
other), the key from the process's cache (ADR 0830) — and reads everything the answer needs
in one statement, the tenant's key stamp included (``CurrentReads``, ADR 0941); the answer
is the declared endpoint's (``routes/usage.py``: the same ``current_view``), encoded by
msgspec to the bytes ``JSONResponse`` writes. On PostgreSQL that statement is awaited on
the event loop, on the store's own asynchronous connections (ADR 0971), instead of a worker
thread. Anything else (a missing or repeated
parameter, say) goes to FastAPI's handler, so its 422 is FastAPI's own.

``GET /v1/usage/periods`` and ``/history``: the query resolved the same way (a ``limit``
is left to FastAPI, which validates it), then the declared endpoint called with it — one
place reads and renders — and its ``dict`` encoded as FastAPI renders it. What they skip is
FastAPI's route matching and dependency solving (ADR 0883 measured those at 13-20 % of a
fast read's CPU). ``/history`` shares the declared endpoint's body (``history_answer_of``)
and encodes its page's Struct as is, without the ``dict`` between (ADR 0967); its read is
two statements, the key stamp with the metric and the customer's record, then the
ledger's totals (``history_read``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from stripemeter_server.api.cached_reads import Reader, read_stamped, read_stamped_awaiting
from stripemeter_server.api.deps import AppState, admit_cached, app_state, check_tenant
from stripemeter_server.api.fast_path import guard_params, plain_query
from stripemeter_server.api.json_body import encode_plain, encode_struct
from stripemeter_server.api.schemas import usage_answers as answers
from stripemeter_server.api.schemas.history_answers import HistoryPage, history_answer
from stripemeter_server.api.serialize import PAGE_DEFAULT, first_page, require_time
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage.current import (
    CurrentAnswer,
    PeriodsAnswer,
    current_from,
    current_inputs_on_loop,
    history_from,
    periods_from,
)
from stripemeter_server.service.usage.reads import HistoryPoint

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
    customer_ref, metric = params["customerRef"], params.get("metric")
    now = state.ctx.clock.now()
    found, costs, held = await read_stamped_awaiting(
        request,
        state,
        Reader(who, "read", check),
        # PostgreSQL: awaited on the event loop (ADR 0971); else through a unit of work,
        # on SQLite on the event loop, never waiting (ADR 0961)
        lambda: current_inputs_on_loop(state.ctx.store, who.tenant_id, customer_ref, now),
        lambda inputs: current_from(inputs, customer_ref, now, metric),
        _read(customer_ref, now, metric),
    )
    body = encode_struct(answers.current_answer(customer_ref, now, found, costs, held))
    return Response(body, media_type="application/json")


_PERIODS = frozenset({"customerRef", "metric", "from", "to", "tenantId"})
_HISTORY = _PERIODS | {"step", "groupBy"}
_REQUIRED = ("customerRef", "metric", "from", "to")


async def _declared_read(
    request: Request, declared: Callable[..., Any], names: frozenset[str]
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
    )
    return Response(encode_plain(answer), media_type="application/json")


async def periods(request: Request, declared: Callable[..., Any]) -> Response | None:
    return await _declared_read(request, declared, _PERIODS)


def history_read(
    customer_ref: str,
    metric: str,
    window: tuple[datetime, datetime],
    step: str,
    group_by: str | None,
) -> Callable[[UnitOfWork], tuple[KeyStamp, Callable[[], list[HistoryPoint]]]]:
    """``GET /v1/usage/history``'s read (ADR 0967): the key stamp, the metric and the
    customer's record in one statement, the stamp judged first; then the ledger."""

    def read(uow: UnitOfWork) -> tuple[KeyStamp, Callable[[], list[HistoryPoint]]]:
        inputs = uow.current_reads.history_inputs(customer_ref, metric)
        return inputs.stamp, lambda: history_from(
            uow, inputs, customer_ref, metric, window, step, group_by
        )

    return read


async def history_answer_of(
    request: Request,
    state: AppState,
    admitted: Reader,
    query: tuple[str, str, str, str],
    step: str,
    group_by: str | None,
    limit: int,
    tenant_id: str | None,
) -> HistoryPage:
    """The history page both the declared endpoint and the fast path answer; ``query``:
    customer, metric, from and to, as given."""
    customer_ref, metric, start, end = query
    check_tenant(admitted.who, tenant_id)
    begin, finish = require_time(start, "from"), require_time(end, "to")
    points = await read_stamped(
        request,
        state,
        admitted,
        history_read(customer_ref, metric, (begin, finish), step, group_by),
        on_loop=True,  # SQLite: on the event loop, never waiting (ADR 0961)
    )
    shown, next_from = first_page(points, lambda p: p.start, limit)
    return history_answer(customer_ref, metric, step, group_by, shown, next_from)


async def history(request: Request, _: object) -> Response | None:
    params = plain_query(request, _HISTORY)
    if params is None or not all(name in params for name in _REQUIRED):
        return None
    guard_params(request)
    state = app_state(request)
    who, check = await admit_cached(request, state, "read")
    page = await history_answer_of(
        request,
        state,
        Reader(who, "read", check),
        (params["customerRef"], params["metric"], params["from"], params["to"]),
        params.get("step", "day"),
        params.get("groupBy"),
        PAGE_DEFAULT,
        params.get("tenantId"),
    )
    return Response(encode_struct(page), media_type="application/json")
