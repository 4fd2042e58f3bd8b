"""A token bucket: the pusher's per-account limit on calls to Stripe.

Stripe allows 1000 meter events per second on a live account (far fewer in test mode); the
pusher stays under it rather than leaning on 429s. Time is the real monotonic clock (a rate
is a real-time concern); both clock and sleep are injectable for tests. The arithmetic is
the domain's (``domain/token_bucket.refill``, shared with the per-tenant rate limit); this
class adds the waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from stripemeter_server.domain.token_bucket import refill


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = self.burst
        self._at = monotonic()
        self._lock = threading.Lock()

    def acquire(self, tokens: float = 1.0) -> None:
        """Take ``tokens``, waiting until the bucket holds them."""
        with self._lock:
            while True:
                now = self._monotonic()
                self._tokens = refill(self._tokens, now - self._at, self.rate, self.burst)
                self._at = now
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return
                self._sleep((tokens - self._tokens) / self.rate)
