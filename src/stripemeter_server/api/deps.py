"""Request plumbing: the app's state, authentication, tenant checks and the UoW runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.telemetry import Telemetry
from stripemeter_server.config import Settings
from stripemeter_server.domain.errors import (
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.domain.token_bucket import BucketLimits, Decision, lease_size
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.corrections.rebuild_jobs import RebuildRunner
from stripemeter_server.service.dashboard import sessions
from stripemeter_server.service.dashboard.sessions import DashboardSession
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.service.operations import admission, key_cache
from stripemeter_server.service.operations.key_cache import KeyCheck
from stripemeter_server.service.operations.leases import LeasedBuckets
from stripemeter_server.service.operations.tenancy import Principal, hash_key
from stripemeter_server.service.portal.token_cache import TokenCache
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import UseCase, read_inline, run_use_case

T = TypeVar("T")


@dataclass
class AppState:
    settings: Settings
    ctx: ServiceContext
    telemetry: Telemetry
    committer: GroupCommitter
    rebuilds: RebuildRunner = field(default_factory=RebuildRunner)
    rate_defaults: BucketLimits = field(default_factory=lambda: BucketLimits(0.0, 1.0))
    shared_buckets: bool = False  # PostgreSQL: one bucket row per tenant for every node
    buckets: admission.LocalBuckets = field(default_factory=admission.LocalBuckets)
    leases: LeasedBuckets = field(default_factory=LeasedBuckets)  # ADR 0887: ingest only
    portal_tokens: TokenCache = field(default_factory=TokenCache)  # ADR 0830


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.stripemeter
    return state


def presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    key = request.headers.get("x-api-key", "").strip()
    if key:
        return key
    raise UnauthorizedError(
        "missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key"
    )


async def principal(request: Request, state: AppState = Depends(app_state)) -> Principal:
    """Authenticate the key against the database and take a token from its tenant's bucket
    (``service/admission.py``): no cache, so a revocation holds on every node at once."""
    return await admit_key(request, state, presented_key(request))


async def admit_key(request: Request, state: AppState, secret: str) -> Principal:
    """Authenticate ``secret`` and rate-limit its tenant (the header's key)."""
    now = state.ctx.clock.now()
    defaults = state.rate_defaults
    if state.shared_buckets:
        found, decision = await run_as_system(
            state,
            "",
            lambda uow: admission.admit_shared(uow, secret, now, defaults),
            read_only=False,
        )
    else:
        found, limits = await run_as_system(
            state, "", lambda uow: admission.admit_local(uow, secret, now, defaults), read_only=True
        )
        decision = state.buckets.take(found.tenant_id, limits)
    return _admitted(request, found, decision)


async def admit_session(
    request: Request, state: AppState, token: str | None
) -> DashboardSession | None:
    """The dashboard session of a cookie's token (``None``: none, ended, or its key
    revoked), its tenant rate-limited exactly as a header key's would be."""
    now = state.ctx.clock.now()
    defaults = state.rate_defaults
    if state.shared_buckets:

        def shared(uow: UnitOfWork) -> tuple[DashboardSession | None, Decision | None]:
            found = sessions.open_session(uow, token, now)
            return found, None if found is None else admission.take_shared(uow, found.who, defaults)

        session, decision = await run_as_system(state, "", shared, read_only=False)
    else:

        def local(uow: UnitOfWork) -> tuple[DashboardSession | None, BucketLimits | None]:
            found = sessions.open_session(uow, token, now)
            return found, None if found is None else admission.local_limits(
                uow, found.who, defaults
            )

        session, limits = await run_as_system(state, "", local, read_only=True)
        decision = (
            None
            if session is None or limits is None
            else state.buckets.take(session.who.tenant_id, limits)
        )
    if session is None or decision is None:
        return None
    return replace(session, who=_admitted(request, session.who, decision))


def _admitted(request: Request, found: Principal, decision: Decision) -> Principal:
    request.state.tenant_id = found.tenant_id  # for the request's log line
    _refuse_over_limit(found.tenant_id, decision)
    return replace(found, request_id=getattr(request.state, "request_id", None))


async def admit_cached(
    request: Request, state: AppState, scope: str
) -> tuple[Principal, KeyCheck | None]:
    """Ingest's admission: the key from the process's cache when it was seen before (read
    once otherwise), re-checked by the ingest group's own transaction through the returned
    ``KeyCheck`` (ADR 0800). With no rate limit in force no bucket is touched; a limit on a
    shared bucket (PostgreSQL, several processes) is taken from this process's lease of it
    (ADR 0887)."""
    secret = presented_key(request)
    keys = state.committer.keys
    key_hash = hash_key(secret)
    entry = cached = keys.get(key_hash)
    if entry is None:
        entry = await run_as_system(
            state, "", lambda uow: key_cache.load_key(uow, secret), read_only=True
        )
        if entry is None:
            raise UnauthorizedError("invalid API key", code="invalid_api_key")
    request_state = request.state
    request_id = getattr(request_state, "request_id", None)
    who = keys.admit(entry, key_hash, to_micros(state.ctx.clock.now()), request_id)  # or refusal
    if cached is None:
        keys.put(entry)  # only a usable key is kept
    stamp = entry.stamp
    limits = admission.limits_for((stamp.rate_per_second, stamp.burst), state.rate_defaults)
    request_state.tenant_id = who.tenant_id  # for the request's log line
    if not limits.unlimited:
        if state.shared_buckets:
            await _take_leased(state, who.tenant_id, limits)
        else:
            _refuse_over_limit(who.tenant_id, state.buckets.take(who.tenant_id, limits))
    check_scope(who, scope)
    return who, KeyCheck(key_hash, stamp)


async def _take_leased(state: AppState, tenant_id: str, limits: BucketLimits) -> None:
    """A token of this process's lease of the tenant's shared bucket; when none is held, a
    new lease (unspent tokens of the last one go back first) in one short transaction."""
    leases = state.leases
    if leases.take(tenant_id):
        return
    returned, wanted = leases.release(tenant_id), lease_size(limits, leases.lease_seconds)
    got = await run_as_system(
        state,
        "",
        lambda uow: admission.lease_shared(uow, tenant_id, state.rate_defaults, returned, wanted),
        read_only=False,
    )
    leases.hold(tenant_id, got.granted - 1)
    _refuse_over_limit(tenant_id, Decision(got.granted > 0, got.tokens, got.retry_after_seconds))


def _refuse_over_limit(tenant_id: str, decision: Decision) -> None:
    if not decision.allowed:
        raise RateLimitedError(
            f"tenant {tenant_id!r} is over its rate limit; retry after "
            f"{decision.retry_after_seconds} s",
            retry_after_seconds=decision.retry_after_seconds,
        )


def check_scope(who: Principal, scope: str) -> None:
    if scope not in who.scopes and "admin" not in who.scopes:
        raise ForbiddenError(f"this API key lacks the '{scope}' scope", code="missing_scope")


def require(scope: str) -> Callable[..., Any]:
    """A dependency that admits keys holding ``scope`` (``admin`` holds every scope)."""

    async def dependency(who: Principal = Depends(principal)) -> Principal:
        check_scope(who, scope)
        return who

    return dependency


def check_tenant(who: Principal, tenant_id: object) -> None:
    if tenant_id is not None and tenant_id != who.tenant_id:
        raise ForbiddenError(
            "tenantId does not match the API key's tenant", code="tenant_mismatch", field="tenantId"
        )


async def read(state: AppState, who: Principal, fn: UseCase[T]) -> T:
    """Run a read-only use case for the calling key (never commits)."""
    return await _run(
        state, who.tenant_id, fn, read_only=True, actor=who.key_id, request_id=who.request_id
    )


async def read_statements(state: AppState, who: Principal, fn: UseCase[T]) -> T:
    """``read`` for a use case whose statements need no shared snapshot: on PostgreSQL it
    runs without a transaction, two round trips fewer (ADR 0883)."""
    return await _run(
        state,
        who.tenant_id,
        fn,
        read_only=True,
        actor=who.key_id,
        request_id=who.request_id,
        shared_snapshot=False,
    )


async def read_on_loop(state: AppState, who: Principal, fn: UseCase[T]) -> T:
    """``read_statements`` run on the event loop when the store can do so without waiting
    (SQLite, ADR 0961): no hop to a worker thread and back. A read that would wait for a
    lock, or a store that cannot, runs on a worker thread as ``read_statements`` does. For
    short reads only (the usage reads): the loop serves nothing else while one runs."""
    done = read_inline(
        state.ctx.store, who.tenant_id, fn, actor=who.key_id, request_id=who.request_id
    )
    if done is not None:
        return done[0]
    return await read_statements(state, who, fn)


async def write(state: AppState, who: Principal, fn: UseCase[T]) -> T:
    """Run a writing use case for the calling key. A write takes the ``Principal``, never a
    bare tenant id, so every audit entry it leaves names the key that asked for it."""
    return await _run(
        state, who.tenant_id, fn, read_only=False, actor=who.key_id, request_id=who.request_id
    )


async def run_as_system(state: AppState, tenant_id: str, fn: UseCase[T], *, read_only: bool) -> T:
    """Run a use case before any key is known (admission itself): its actor is the system."""
    return await _run(state, tenant_id, fn, read_only=read_only, actor=None, request_id=None)


async def _run(
    state: AppState,
    tenant_id: str,
    fn: UseCase[T],
    *,
    read_only: bool,
    actor: str | None,
    request_id: str | None,
    shared_snapshot: bool = True,
) -> T:
    """One use case through the shared runner (``service/runner.py``) in a worker thread."""
    return await run_in_threadpool(
        run_use_case,
        state.ctx.store,
        tenant_id,
        fn,
        read_only=read_only,
        actor=actor,
        request_id=request_id,
        shared_snapshot=shared_snapshot,
    )
