"""The fast paths of the entitlement hot routes (ADR 0860): one check, "may this quantity be
used now?" and a reservation — what a customer's API calls before each unit of work.

Each is the declared route's ``fast_path`` (``api/fast_path.py``): the key from the process's
key cache, re-checked by the use case's own transaction (ADR 0830), no dependency solving,
and the answer rendered as FastAPI rendered the declared endpoint's. A request whose body
is not a plain JSON object goes to the declared endpoint, so its 422 is FastAPI's. A body
is parsed into its command by the declared route's own function, and a refusal is raised
inside the transaction, after the key's stamp is re-checked (a revoked key's 401 first).
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from stripemeter_server.api.cached_reads import (
    Reader,
    read_checked,
    read_stamped,
    write_checked,
    write_stamped,
)
from stripemeter_server.api.deps import AppState, admit_cached, app_state, check_tenant
from stripemeter_server.api.fast_path import guard_params, json_object
from stripemeter_server.api.routes.entitlements.views import (
    access_json,
    check_json,
    reservation_json,
)
from stripemeter_server.api.schemas.entitlement_commands import check_request, reserve_request
from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.entitlements import access as checks
from stripemeter_server.service.entitlements import reservations as holds


async def _admit(request: Request, state: AppState, scope: str) -> Reader:
    who, check = await admit_cached(request, state, scope)
    return Reader(who, scope, check)


def _plain(*identifiers: str) -> bool:
    """Whether each identifier is one the use case accepts: only then is the key stamp read
    by the view's statement (ADR 0950). Any other goes the way it went, the stamp read alone
    first, so its refusal (after a revoked key's 401) is unchanged and no statement is sent
    a string the store refuses."""
    try:
        for identifier in identifiers:
            check_identifier(identifier, "identifier")
    except ValidationError:
        return False
    return True


async def get_entitlement(request: Request, _: object) -> Response | None:
    if request.scope.get("query_string"):
        return None  # the route declares none: FastAPI ignores them, and so does its handler
    guard_params(request)
    state = app_state(request)
    admitted = await _admit(request, state, "read")
    customer_ref: str = request.path_params["customer_ref"]
    feature: str = request.path_params["feature"]
    now = state.ctx.clock.now()
    if _plain(customer_ref, feature):  # the key stamp read with the view (ADR 0950)
        access = await read_stamped(
            request,
            state,
            admitted,
            lambda uow: checks.stamped_check(uow, customer_ref, feature, now),
        )
    else:  # the stamp first, alone, then the refusal as before
        access = await read_checked(
            request,
            state,
            admitted,
            lambda uow: checks.check_feature(uow, customer_ref, feature, now),
            shared_snapshot=False,  # each statement reads what is committed (ADR 0883)
        )
    return JSONResponse(access_json(access, customer_ref))


async def check(request: Request, _: object) -> Response | None:
    body = await json_object(request)
    if body is None:
        return None
    state = app_state(request)
    admitted = await _admit(request, state, "read")
    check_tenant(admitted.who, body.pop("tenantId", None))
    asked = Parsed.of(lambda: check_request(body))
    now = state.ctx.clock.now()
    parsed = asked.value
    if parsed is not None and _plain(parsed.customer_ref, parsed.feature):
        answer = await read_stamped(
            request,
            state,
            admitted,
            lambda uow: checks.stamped_quantity_check(uow, parsed, now),
        )
    else:  # a refusal, after the stamp read alone as before
        answer = await read_checked(
            request,
            state,
            admitted,
            lambda uow: checks.check_quantity(uow, asked.get(), now),
            shared_snapshot=False,  # each statement reads what is committed (ADR 0883)
        )
    return JSONResponse(
        check_json(answer.allowed, answer.quantity, answer.access, answer.customer_ref)
    )


async def reserve(request: Request, _: object) -> Response | None:
    body = await json_object(request)
    if body is None:
        return None
    state = app_state(request)
    admitted = await _admit(request, state, "ingest")
    check_tenant(admitted.who, body.pop("tenantId", None))
    asked = Parsed.of(lambda: reserve_request(body))
    now = state.ctx.clock.now()
    parsed = asked.value
    if parsed is not None and _plain(parsed.customer_ref, parsed.feature):
        done = await write_stamped(
            request, state, admitted, lambda uow: holds.stamped_reserve(uow, parsed, now)
        )
    else:  # a refusal, after the stamp read alone as before
        done = await write_checked(
            request, state, admitted, lambda uow: holds.reserve(uow, asked.get(), now)
        )
    out = reservation_json(done.reservation, to_micros(now), done.access)
    return JSONResponse(out, status_code=201 if done.created else 200)
