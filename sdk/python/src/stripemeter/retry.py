"""Retry policy: exponential backoff with full jitter, ``Retry-After``, node failover.

What is retried (every request the SDK sends is safe to repeat — ingest carries the same
idempotency keys on every attempt, reads are reads, ``metrics.create`` of an identical
definition is a 200):

* network errors and timeouts (``httpx.TransportError``) — the next attempt goes to the next
  node, immediately if that node was not tried yet in this call;
* ``429`` — after ``Retry-After`` seconds (capped at ``max_retry_after``), same node;
* ``408`` and every ``5xx`` — next node, like a network error.

Everything else (400, 401, 403, 404, 409, 413, 422, …) is raised at once.

The delay before retry ``n`` (``n = 1, 2, …``) when no fresh node is left is drawn uniformly
from ``[0, min(max_delay, base_delay * 2 ** (n - 1))]`` ("full jitter").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before raising.

    ``max_attempts`` counts every HTTP attempt of one call (over all nodes; 1 = no retry).
    ``rng`` may be seeded for reproducible jitter.
    """

    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry_number: int) -> float:
        """Full-jitter delay before the ``retry_number``-th backoff (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(retry_number - 1, 0)))
        return self.rng.uniform(0.0, ceiling)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
