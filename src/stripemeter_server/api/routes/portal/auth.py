"""Admission of a portal token: ``Authorization: Bearer smp_...`` only (a token in a URL is
for the page, never the API), read from the database on every request (no cache, so a
revocation holds at once), rate-limited by its tenant's bucket of this process."""

from __future__ import annotations

from fastapi import Depends, Request

from stripemeter_server.api.deps import AppState, app_state, run_as_system
from stripemeter_server.domain.errors import RateLimitedError, UnauthorizedError
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.portal.admission import Admitted, admit
from stripemeter_server.service.portal.tokens import PortalGrant

ORIGINS_STATE = "portal_origins"  # request.state: the tenant's allowed origins (CORS)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    raise UnauthorizedError("missing portal token: send 'Authorization: Bearer <token>'",
                            code="missing_portal_token")


async def admit_token(request: Request, state: AppState, presented: str) -> Admitted:
    now = state.ctx.clock.now()
    admitted = await run_as_system(
        state, "", lambda uow: admit(uow, presented, now, state.rate_defaults), read_only=True)
    request.state.tenant_id = admitted.grant.tenant_id  # for the request's log line
    setattr(request.state, ORIGINS_STATE, admitted.allowed_origins)
    decision = state.buckets.take(admitted.grant.tenant_id, admitted.limits)
    if not decision.allowed:
        raise RateLimitedError(
            f"over the rate limit; retry after {decision.retry_after_seconds} s",
            retry_after_seconds=decision.retry_after_seconds)
    return admitted


async def portal_grant(request: Request, state: AppState = Depends(app_state)) -> PortalGrant:
    return (await admit_token(request, state, _bearer(request))).grant


def acting(grant: PortalGrant, request: Request) -> Principal:
    """The grant as the runner's caller: its tenant, and the token id as the audit's actor
    (no API key scope: what a token may do is checked by the portal's use cases)."""
    return Principal(grant.tenant_id, grant.token_id, frozenset(),
                     getattr(request.state, "request_id", None))
