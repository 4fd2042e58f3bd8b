"""Admission of a portal request: authenticate the token and read what answering it needs
before its tenant is known (the tenant's allowed origins for CORS, its rate limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.token_bucket import BucketLimits
from stripemeter_server.service.operations.admission import limits_for
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.tokens import PortalGrant, authenticate


@dataclass(frozen=True, slots=True)
class Admitted:
    grant: PortalGrant
    allowed_origins: tuple[str, ...]
    limits: BucketLimits


def admit(uow: UnitOfWork, presented: str, now: datetime, defaults: BucketLimits) -> Admitted:
    """One read: the token's grant, its tenant's origins and rate limits. Portal requests
    draw from the tenant's bucket of this process (the key's own bucket is untouched)."""
    grant = authenticate(uow, presented, now)
    configured = uow.rate_limits.of(grant.tenant_id).settings()
    return Admitted(grant, uow.portal.origins_of(grant.tenant_id), limits_for(configured, defaults))
