"""Admin reads admitted from the process's key cache (ADR 0830, after ADR 0800's ingest).

A read used to run two transactions: one to read its key and rate limits (ADR 0012), one
for the read itself. Here the key comes from the ingest key cache when it was seen before,
and the read's own transaction starts by reading the tenant's key stamp: unchanged, the read
goes on; moved (a key of the tenant was revoked or rotated, or its limits changed since),
the tenant's cached keys are dropped and the request is admitted from the database as
before — so a revoked key gets the same 401, on every node, once the revoke has committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from fastapi import Depends, Request

from stripemeter_server.api.deps import (
    AppState,
    admit_cached,
    admit_key,
    app_state,
    check_scope,
    presented_key,
    read,
    read_on_loop,
    read_statements,
    write,
)
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.operations.key_cache import KeyCheck
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import T, UseCase


class _StaleKey(Exception):
    """The tenant's key stamp moved since the key was cached: admit afresh."""


@dataclass(frozen=True, slots=True)
class Reader:
    """An admitted read: the caller, and the stamp its transaction re-checks (``None``:
    admitted from the database, nothing to re-check)."""

    who: Principal
    scope: str
    check: KeyCheck | None


def reader(scope: str) -> Any:
    """A dependency admitting keys that hold ``scope``, from the key cache."""

    async def dependency(request: Request, state: AppState = Depends(app_state)) -> Reader:
        who, check = await admit_cached(request, state, scope)
        return Reader(who, scope, check)

    return dependency


async def read_checked(
    request: Request,
    state: AppState,
    admitted: Reader,
    fn: UseCase[T],
    *,
    shared_snapshot: bool = True,
    on_loop: bool = False,
) -> T:
    """Run a read-only use case whose transaction first re-checks the key's stamp.
    ``shared_snapshot=False``: its statements need none (``deps.read_statements``); the
    stamp is still read first, so a revocation committed before the read began is seen.
    ``on_loop`` (with ``shared_snapshot=False``): on the event loop where the store can
    (``deps.read_on_loop``, ADR 0961)."""
    runner = read if shared_snapshot else read_on_loop if on_loop else read_statements
    return await _run_checked(request, state, admitted, fn, runner)


async def write_checked(request: Request, state: AppState, admitted: Reader, fn: UseCase[T]) -> T:
    """Run a writing use case whose transaction first re-checks the key's stamp (ADR 0860):
    a moved stamp rolls it back before anything was written, and the request is admitted
    afresh (its 401 if the key was revoked) and written once."""
    return await _run_checked(request, state, admitted, fn, write)


async def _run_checked(
    request: Request,
    state: AppState,
    admitted: Reader,
    fn: UseCase[T],
    run: Callable[[AppState, Principal, UseCase[T]], Awaitable[T]],
) -> T:
    check = admitted.check
    if check is None:
        return await run(state, admitted.who, fn)
    tenant_id = admitted.who.tenant_id

    def checked(uow: UnitOfWork) -> T:
        if uow.api_keys.stamp(tenant_id) != check.stamp:
            raise _StaleKey(tenant_id)
        return fn(uow)

    try:
        return await run(state, admitted.who, checked)
    except _StaleKey:
        state.committer.keys.forget_tenant(tenant_id)
    who = await admit_key(request, state, presented_key(request))  # its 401 if revoked
    check_scope(who, admitted.scope)
    return await run(state, who, fn)


# A read whose first statement also returns the tenant's key stamp (ADR 0941): the stamp,
# and the rest of the work, done only once the stamp has been judged.
StampedRead = Callable[[UnitOfWork], tuple[KeyStamp, Callable[[], T]]]


async def read_stamped(
    request: Request,
    state: AppState,
    admitted: Reader,
    fn: StampedRead[T],
    *,
    on_loop: bool = False,
) -> T:
    """``read_checked(..., shared_snapshot=False)`` for a use case that reads the key stamp
    in its own first (and only) statement instead of one before it: the stamp is compared
    before anything else is computed, so a revoked key still gets its 401 first (and an
    unknown metric its 404 only after that). ``on_loop`` as for ``read_checked``."""
    runner = read_on_loop if on_loop else read_statements
    return await _run_stamped(request, state, admitted, fn, runner)


class _Stamped(Protocol):
    @property
    def stamp(self) -> KeyStamp: ...


S = TypeVar("S", bound=_Stamped)


async def read_stamped_awaiting(
    request: Request,
    state: AppState,
    admitted: Reader,
    fetch: Callable[[], Awaitable[S | None]],
    finish: Callable[[S], T],
    fn: StampedRead[T],
) -> T:
    """``read_stamped(..., on_loop=True)`` for a read the store can await on the event loop
    (PostgreSQL's current usage, ADR 0971): ``fetch`` reads the inputs, the key stamp
    among them; ``finish`` computes the answer once the stamp has been judged (a revoked
    key's 401 first, as there). ``fn`` is the same read through a unit of work: for when
    ``fetch`` cannot (``None``), and for the read once a moved stamp was re-admitted."""
    inputs = await fetch()
    if inputs is None:
        return await read_stamped(request, state, admitted, fn, on_loop=True)
    check = admitted.check
    if check is None or inputs.stamp == check.stamp:
        return finish(inputs)
    state.committer.keys.forget_tenant(admitted.who.tenant_id)
    who = await admit_key(request, state, presented_key(request))  # its 401 if revoked
    check_scope(who, admitted.scope)
    return await read_on_loop(state, who, lambda uow: fn(uow)[1]())


async def write_stamped(
    request: Request, state: AppState, admitted: Reader, fn: StampedRead[T]
) -> T:
    """``write_checked`` for a use case whose first statement reads the key stamp with its
    own first read (ADR 0950): a moved stamp rolls the transaction back before anything was
    written, and the request is admitted afresh and written once."""
    return await _run_stamped(request, state, admitted, fn, write)


async def _run_stamped(
    request: Request,
    state: AppState,
    admitted: Reader,
    fn: StampedRead[T],
    run: Callable[[AppState, Principal, UseCase[T]], Awaitable[T]],
) -> T:
    check = admitted.check

    def checked(uow: UnitOfWork) -> T:
        stamp, finish = fn(uow)
        if check is not None and stamp != check.stamp:
            raise _StaleKey(admitted.who.tenant_id)
        return finish()

    try:
        return await run(state, admitted.who, checked)
    except _StaleKey:
        state.committer.keys.forget_tenant(admitted.who.tenant_id)
    who = await admit_key(request, state, presented_key(request))  # its 401 if revoked
    check_scope(who, admitted.scope)
    return await run(state, who, lambda uow: fn(uow)[1]())
