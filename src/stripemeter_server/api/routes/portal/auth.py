"""Admission of a portal token: ``Authorization: Bearer smp_...`` only (a token in a URL is
for the page, never the API), rate-limited by its tenant's bucket of this process.

Reads admit a token seen before from the process's cache and re-check it in their own
transaction (``service/portal/token_cache.py``, ADR 0830): no admission transaction, and a
revocation still holds at once on every node. Writes read the token from the database."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from stripemeter_server.api.deps import AppState, app_state, read_statements, run_as_system
from stripemeter_server.domain.errors import RateLimitedError, UnauthorizedError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.portal.admission import Admitted, admit
from stripemeter_server.service.portal.token_cache import (
    CachedToken,
    StaleToken,
    admit_fresh,
    token_hash,
)
from stripemeter_server.service.portal.tokens import PortalGrant
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import T, UseCase

ORIGINS_STATE = "portal_origins"  # request.state: the tenant's allowed origins (CORS)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    raise UnauthorizedError(
        "missing portal token: send 'Authorization: Bearer <token>'", code="missing_portal_token"
    )


def _admitted(
    request: Request, state: AppState, admitted: Admitted, *, take: bool = True
) -> Admitted:
    """Mark the request as the token's (log line, CORS) and take from its tenant's bucket."""
    request.state.tenant_id = admitted.grant.tenant_id  # for the request's log line
    setattr(request.state, ORIGINS_STATE, admitted.allowed_origins)
    if not take:
        return admitted
    decision = state.buckets.take(admitted.grant.tenant_id, admitted.limits)
    if not decision.allowed:
        raise RateLimitedError(
            f"over the rate limit; retry after {decision.retry_after_seconds} s",
            retry_after_seconds=decision.retry_after_seconds,
        )
    return admitted


async def admit_token(
    request: Request, state: AppState, presented: str, *, take: bool = True
) -> Admitted:
    now = state.ctx.clock.now()
    admitted = await run_as_system(
        state, "", lambda uow: admit(uow, presented, now, state.rate_defaults), read_only=True
    )
    return _admitted(request, state, admitted, take=take)


async def portal_grant(request: Request, state: AppState = Depends(app_state)) -> PortalGrant:
    return (await admit_token(request, state, _bearer(request))).grant


@dataclass(frozen=True, slots=True)
class PortalReader:
    """A read's admission: the grant, and the cached entry its transaction re-checks."""

    grant: PortalGrant
    cached: CachedToken
    digest: str


async def portal_reader(request: Request, state: AppState = Depends(app_state)) -> PortalReader:
    """The token from the process's cache when it was seen before (read once otherwise)."""
    presented = _bearer(request)
    digest = token_hash(presented)
    now = state.ctx.clock.now()
    entry = state.portal_tokens.get(digest)
    if entry is None or not entry.usable_at(to_micros(now)):
        state.portal_tokens.forget(digest)
        entry = await run_as_system(
            state,
            "",
            lambda uow: admit_fresh(uow, presented, now, state.rate_defaults),
            read_only=True,
        )
        state.portal_tokens.put(digest, entry)  # only an admitted token gets here
    _admitted(request, state, entry.admitted)
    return PortalReader(entry.admitted.grant, entry, digest)


async def portal_read(request: Request, state: AppState, reader: PortalReader, fn: UseCase[T]) -> T:
    """Run a portal read whose first statement re-checks the cached token; when it no longer
    holds, admit the token afresh (its 401 if revoked) and read again. On PostgreSQL the
    read runs without a transaction (ADR 0883, ADR 0948): under READ COMMITTED each of its
    statements had a snapshot of its own anyway; no ``BEGIN``, no ``ROLLBACK``."""

    def checked(uow: UnitOfWork) -> T:
        reader.cached.recheck(uow)
        return fn(uow)

    try:
        return await read_statements(state, acting(reader.grant, request), checked)
    except StaleToken:
        state.portal_tokens.forget(reader.digest)
    # Its 401 when revoked; the bucket was already drawn from for this request.
    fresh = await admit_token(request, state, _bearer(request), take=False)
    return await read_statements(state, acting(fresh.grant, request), fn)


def acting(grant: PortalGrant, request: Request) -> Principal:
    """The grant as the runner's caller: its tenant, and the token id as the audit's actor
    (no API key scope: what a token may do is checked by the portal's use cases)."""
    return Principal(
        grant.tenant_id, grant.token_id, frozenset(), getattr(request.state, "request_id", None)
    )
