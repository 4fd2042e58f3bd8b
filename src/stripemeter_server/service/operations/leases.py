"""Slices of the tenants' shared rate-limit buckets, leased by this process (ADR 0887).

With a rate limit in force and the bucket shared (PostgreSQL, or several processes), every
ingest request took a token from the tenant's row in a transaction of its own (ADR 0012): a
round trip and a row lock per request, serialising a tenant's requests across nodes. Here a
process takes a *lease* of a few tokens at a time (``token_bucket.lease_size``: a tenth of
the burst, at most what the rate refills in one lease period) in that same locked
transaction, and spends them from memory. A lease is good for ``LEASE_SECONDS``; what it
did not spend goes back to the row in the process's next lease transaction.

Every token spent was taken from the shared row first, so the limit is never exceeded across
nodes; what the lease changes is *when* a request may be refused: while other processes hold
unspent tokens (at most a lease each, for at most ``LEASE_SECONDS``), a process may answer
429 a little early.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

LEASE_SECONDS = 0.25


class LeasedBuckets:
    """The tokens this process holds per tenant, and until when (monotonic clock)."""

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self._monotonic = monotonic
        self.lease_seconds = lease_seconds
        self._held: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def take(self, tenant_id: str) -> bool:
        """Spend one held token of a lease still in its time; False: lease again."""
        with self._lock:
            tokens, until = self._held.get(tenant_id, (0, 0.0))
            if tokens <= 0 or self._monotonic() >= until:
                return False
            self._held[tenant_id] = (tokens - 1, until)
            return True

    def release(self, tenant_id: str) -> int:
        """The unspent tokens held for the tenant, handed back (the next lease returns them)."""
        with self._lock:
            tokens, _ = self._held.pop(tenant_id, (0, 0.0))
            return tokens

    def hold(self, tenant_id: str, tokens: int) -> None:
        """Keep ``tokens`` of a fresh lease (the asking request's own already taken out)."""
        if tokens <= 0:
            return
        with self._lock:
            held, _ = self._held.get(tenant_id, (0, 0.0))
            self._held[tenant_id] = (held + tokens, self._monotonic() + self.lease_seconds)
