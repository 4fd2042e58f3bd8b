"""Request plumbing: the app's state, authentication, tenant checks and the UoW runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import stamina
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.settings import Settings
from stripemeter_server.api.telemetry import Telemetry
from stripemeter_server.domain.errors import ForbiddenError, UnauthorizedError
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.group_commit import GroupCommitter
from stripemeter_server.service.rebuild_jobs import RebuildRunner
from stripemeter_server.service.tenancy import Principal, authenticate, hash_key
from stripemeter_server.storage.unit_of_work import RetryableConflict, UnitOfWork

T = TypeVar("T")
KEY_CACHE_SECONDS = 5.0


@dataclass
class AppState:
    settings: Settings
    ctx: ServiceContext
    telemetry: Telemetry
    committer: GroupCommitter
    key_cache: dict[str, tuple[float, Principal]] = field(default_factory=dict)
    rebuilds: RebuildRunner = field(default_factory=RebuildRunner)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.stripemeter
    return state


def _presented_key(request: Request) -> str:
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
    """Authenticate the key (cached a few seconds per process, by hash, to spare a query)."""
    secret = _presented_key(request)
    digest = hash_key(secret)
    cached = state.key_cache.get(digest)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]

    def lookup(uow: UnitOfWork) -> Principal:
        return authenticate(uow, secret)

    found = await run(state, "", lookup, read_only=True)
    if len(state.key_cache) > 10_000:
        state.key_cache.clear()
    state.key_cache[digest] = (time.monotonic() + KEY_CACHE_SECONDS, found)
    return found


def require(scope: str) -> Callable[..., Any]:
    """A dependency that admits keys holding ``scope`` (``admin`` holds every scope)."""

    async def dependency(who: Principal = Depends(principal)) -> Principal:
        if scope not in who.scopes and "admin" not in who.scopes:
            raise ForbiddenError(f"this API key lacks the '{scope}' scope", code="missing_scope")
        return who

    return dependency


def check_tenant(who: Principal, tenant_id: object) -> None:
    if tenant_id is not None and tenant_id != who.tenant_id:
        raise ForbiddenError(
            "tenantId does not match the API key's tenant", code="tenant_mismatch", field="tenantId"
        )


async def run(
    state: AppState, tenant_id: str, fn: Callable[[UnitOfWork], T], *, read_only: bool = False
) -> T:
    """Run one use case as one transaction in a worker thread; retry on deadlock."""

    def once() -> T:
        for attempt in stamina.retry_context(
            on=RetryableConflict, attempts=5, wait_initial=0.01, wait_max=0.5
        ):
            with attempt, state.ctx.store.unit_of_work(tenant_id, read_only=read_only) as uow:
                result = fn(uow)
                uow.commit()
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    return await run_in_threadpool(once)
