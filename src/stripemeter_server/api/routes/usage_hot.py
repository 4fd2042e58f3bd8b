"""The fast path of ``GET /v1/usage/current`` (ADR 0860, ADR 0941): the read issue 19 times.

It resolves what FastAPI would have — the query parameters (each once, none empty, no
other), the key from the process's cache (ADR 0830) — and reads everything the answer needs
in one statement, the tenant's key stamp included (``CurrentReads``, ADR 0941); the answer
is the declared endpoint's (``routes/usage.py``: the same ``current_view``), encoded by
msgspec to the bytes ``JSONResponse`` writes. Anything else (a missing or repeated
parameter, say) goes to FastAPI's handler, so its 422 is FastAPI's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Request, Response

from stripemeter_server.api.cached_reads import Reader, read_stamped
from stripemeter_server.api.deps import admit_cached, app_state, check_tenant
from stripemeter_server.api.fast_path import guard_params, plain_query
from stripemeter_server.api.json_body import encode_plain
from stripemeter_server.api.schemas import usage_answers as answers
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage.current import CurrentAnswer, current_from

_CURRENT = frozenset({"customerRef", "metric", "tenantId"})


def _read(
    customer_ref: str, now: datetime, metric: str | None
) -> Callable[[UnitOfWork], tuple[KeyStamp, Callable[[], CurrentAnswer]]]:
    def read(uow: UnitOfWork) -> tuple[KeyStamp, Callable[[], CurrentAnswer]]:
        inputs = uow.current_reads.current_inputs(customer_ref, to_micros(now))
        return inputs.stamp, lambda: current_from(inputs, customer_ref, now, metric)

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
        request, state, Reader(who, "read", check), _read(customer_ref, now, params.get("metric"))
    )
    body = encode_plain(answers.current_view(customer_ref, now, found, costs, held))
    return Response(body, media_type="application/json")
