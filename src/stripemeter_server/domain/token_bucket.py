"""The token-bucket arithmetic of the per-tenant rate limit: pure, the time is passed in.

A bucket holds at most ``burst`` tokens and gains ``rate`` tokens per second; a request
takes one. The store keeps ``(tokens, at)`` per tenant and applies :func:`take` under a
row lock, so every node shares one bucket per tenant. The pusher's per-account limit on
Stripe calls (``service/stripe_sync/rate_limit.py``) refills with the same :func:`refill`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BucketLimits:
    rate: float  # tokens per second; 0 means unlimited
    burst: float

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    tokens: float  # what the bucket holds afterwards
    retry_after_seconds: int  # whole seconds until one token is back (0 when allowed)


def refill(tokens: float, elapsed_seconds: float, rate: float, burst: float) -> float:
    """The level after ``elapsed_seconds`` at ``rate`` tokens a second, capped at ``burst``
    (a negative elapsed time, a clock stepping back, counts as 0)."""
    return min(burst, tokens + max(0.0, elapsed_seconds) * rate)


def take(limits: BucketLimits, tokens: float, elapsed_seconds: float) -> Decision:
    """Refill for ``elapsed_seconds`` (a negative value — clocks stepping back — counts as
    0), then take one token if there is one."""
    if limits.unlimited:
        return Decision(True, limits.burst, 0)
    burst = max(1.0, limits.burst)
    level = refill(tokens, elapsed_seconds, limits.rate, burst)
    if level >= 1.0:
        return Decision(True, level - 1.0, 0)
    return Decision(False, level, max(1, math.ceil((1.0 - level) / limits.rate)))


@dataclass(frozen=True, slots=True)
class Lease:
    granted: int  # tokens handed to one process (0: none left, the request is refused)
    tokens: float  # what the shared bucket holds afterwards
    retry_after_seconds: int  # whole seconds until one token is back (0 when granted)


def lease(
    limits: BucketLimits, tokens: float, elapsed_seconds: float, returned: float, wanted: int
) -> Lease:
    """Refill for ``elapsed_seconds``, put back ``returned`` unused leased tokens (capped at
    the burst), then hand out up to ``wanted`` whole tokens (ADR 0887)."""
    burst = max(1.0, limits.burst)
    level = min(burst, refill(tokens, elapsed_seconds, limits.rate, burst) + max(0.0, returned))
    granted = min(max(1, wanted), int(level))
    if granted >= 1:
        return Lease(granted, level - granted, 0)
    return Lease(0, level, max(1, math.ceil((1.0 - level) / limits.rate)))


def lease_size(limits: BucketLimits, lease_seconds: float) -> int:
    """Tokens one process leases at a time: a tenth of the burst, at most what the rate
    refills in one lease period, at least one (so a slow bucket stays exact)."""
    return max(1, int(min(limits.burst / 10, limits.rate * lease_seconds)))
