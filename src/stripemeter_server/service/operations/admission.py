"""Admission of a request: authenticate its key and take a token from its tenant's bucket.

Every request reads its key from the database (no per-process cache), so a revoked or
rotated key is refused on every node and process as soon as the revoking transaction has
committed (ADR 0012). The rate limit is a token bucket per tenant:

* PostgreSQL (any number of nodes): the bucket is the tenant's ``tenant_rate_limits`` row,
  locked for the two statements of this transaction and timed by the database's clock, so
  every node draws from one bucket. The transaction commits with ``synchronous_commit``
  off: a bucket level lost in a crash is harmless.
* SQLite (one process): buckets live in the process (:class:`LocalBuckets`), timed by the
  monotonic clock; their limits still come from the tenant's row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import MICROS
from stripemeter_server.domain.token_bucket import BucketLimits, Decision, Lease, lease, take
from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from stripemeter_server.service.operations import audit
from stripemeter_server.service.operations.ports import OperationsUnitOfWork as UnitOfWork
from stripemeter_server.service.operations.tenancy import Principal, authenticate

MAX_RATE = 1_000_000.0


def limits_for(
    configured: tuple[float | None, float | None], defaults: BucketLimits
) -> BucketLimits:
    """The tenant's own limits where set, else the deployment's defaults."""
    rate, burst = configured
    return BucketLimits(
        defaults.rate if rate is None else rate, defaults.burst if burst is None else burst
    )


def admit_shared(
    uow: UnitOfWork, secret: str, now: datetime, defaults: BucketLimits
) -> tuple[Principal, Decision]:
    """Authenticate and take a token from the shared bucket (PostgreSQL)."""
    who = authenticate(uow, secret, now)
    return who, take_shared(uow, who, defaults)


def take_shared(uow: UnitOfWork, who: Principal, defaults: BucketLimits) -> Decision:
    """A token from the shared bucket of ``who``'s tenant (the key decides the tenant)."""
    bucket_rows = uow.rate_limits.of(who.tenant_id)
    if defaults.unlimited:  # most tenants then have no row: no lock, no write
        limits = limits_for(bucket_rows.settings(), defaults)
        if limits.unlimited:
            return Decision(True, limits.burst, 0)
    bucket = bucket_rows.lock(initial_tokens=max(1.0, defaults.burst))
    limits = limits_for((bucket.rate_per_second, bucket.burst), defaults)
    decision = take(limits, bucket.tokens, (bucket.now_us - bucket.updated_us) / MICROS)
    if decision.allowed and not limits.unlimited:
        bucket_rows.store(decision.tokens, bucket.now_us)
    return decision


def lease_shared(
    uow: UnitOfWork, tenant_id: str, defaults: BucketLimits, returned: float, wanted: int
) -> Lease:
    """Up to ``wanted`` tokens of the tenant's shared bucket for one process, with
    ``returned`` unused tokens of its expired lease put back first (ADR 0887)."""
    bucket_rows = uow.rate_limits.of(tenant_id)
    bucket = bucket_rows.lock(initial_tokens=max(1.0, defaults.burst))
    limits = limits_for((bucket.rate_per_second, bucket.burst), defaults)
    if limits.unlimited:
        return Lease(wanted, limits.burst, 0)
    elapsed = (bucket.now_us - bucket.updated_us) / MICROS
    granted = lease(limits, bucket.tokens, elapsed, returned, wanted)
    if granted.granted or returned:
        bucket_rows.store(granted.tokens, bucket.now_us)
    return granted


def admit_local(
    uow: UnitOfWork, secret: str, now: datetime, defaults: BucketLimits
) -> tuple[Principal, BucketLimits]:
    """Authenticate and read the tenant's limits; the caller takes the token in process."""
    who = authenticate(uow, secret, now)
    return who, local_limits(uow, who, defaults)


def local_limits(uow: UnitOfWork, who: Principal, defaults: BucketLimits) -> BucketLimits:
    """The limits of ``who``'s tenant, for a bucket kept in this process."""
    return limits_for(uow.rate_limits.of(who.tenant_id).settings(), defaults)


class LocalBuckets:
    """The buckets of a one-process deployment (SQLite), keyed by tenant."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, tenant_id: str, limits: BucketLimits) -> Decision:
        if limits.unlimited:
            return Decision(True, limits.burst, 0)
        with self._lock:
            now = self._monotonic()
            tokens, at = self._buckets.get(tenant_id, (max(1.0, limits.burst), now))
            decision = take(limits, tokens, now - at)
            self._buckets[tenant_id] = (decision.tokens, now)
            return decision


def _limit(raw: float | None, field: str) -> float | None:
    if raw is None:
        return None
    if not 0 <= raw <= MAX_RATE:
        raise ValidationError(
            f"{field} must be between 0 and {MAX_RATE:.0f}", code="invalid_rate_limit", field=field
        )
    return float(raw)


def configure_rate_limit(
    uow: UnitOfWork, rate: float | None, burst: float | None, now: datetime
) -> None:
    """Set the tenant's own limits (``None``: back to the deployment's defaults; a rate of
    0: unlimited). Takes effect on every node with the next request."""
    before = dict(zip(("ratePerSecond", "burst"), uow.rate_limits.settings(), strict=True))
    rate, burst = _limit(rate, "ratePerSecond"), _limit(burst, "burst")
    uow.rate_limits.configure(rate, burst)
    audit.record(
        uow,
        now,
        "tenant.rate_limit",
        "tenant",
        uow.tenant_id,
        before=before,
        after={"ratePerSecond": rate, "burst": burst},
    )


@dataclass(frozen=True, slots=True)
class RateLimitView:
    rate_per_second: float
    burst: float
    source: str  # ``tenant`` or ``default``


def rate_limit_view(uow: UnitOfWork, defaults: BucketLimits) -> RateLimitView:
    configured = uow.rate_limits.settings()
    limits = limits_for(configured, defaults)
    source = "default" if configured == (None, None) else "tenant"
    return RateLimitView(limits.rate, limits.burst, source)


def tenant_limits(uow: UnitOfWork, defaults: BucketLimits) -> tuple[TenantRecord, RateLimitView]:
    """The unit of work's tenant and the rate limit in force for it."""
    record = uow.tenants.get(uow.tenant_id)
    if record is None:
        raise NotFoundError(f"tenant {uow.tenant_id!r} does not exist", code="tenant_not_found")
    return record, rate_limit_view(uow, defaults)
