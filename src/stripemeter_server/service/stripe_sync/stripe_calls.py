"""How the pusher makes each Stripe call: under the account's token bucket, with short
in-call retries (``stamina``) for a blip, on a bounded number of threads; and the v2 meter
event session each account's stream requests share until it nears its expiry."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import stamina

from stripemeter_server.domain.errors import StripeRetryableError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.ports.stripe import StripeCredentials, StripePort
from stripemeter_server.service.stripe_sync.rate_limit import TokenBucket

T = TypeVar("T")
U = TypeVar("U")
SESSION_RENEW_MARGIN_S = 60
AccountKey = tuple[str, str | None]


@dataclass(frozen=True)
class CallLimits:
    """The part of ``PushPolicy`` a call needs (rates per account, in-call retries)."""

    rate_live: float
    rate_test: float
    attempts: int
    wait_initial: float
    wait_max: float
    concurrency: int


@dataclass
class StripeCalls:
    limits: CallLimits
    hook: Callable[[str], None] | None = None  # test-only crash points (see workers/)
    _buckets: dict[AccountKey, TokenBucket] = field(default_factory=dict)
    _sessions: dict[AccountKey, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bucket(self, credentials: StripeCredentials) -> TokenBucket:
        key = account_key(credentials)
        with self._lock:  # sender threads share the account's one bucket
            bucket = self._buckets.get(key)
            if bucket is None:
                live = credentials.livemode
                rate = self.limits.rate_live if live else self.limits.rate_test
                bucket = self._buckets[key] = TokenBucket(rate)
            return bucket

    def call(self, credentials: StripeCredentials, fn: Callable[[], T], *, tokens: int = 1) -> T:
        """One Stripe call under the account's rate limit, with short in-call retries."""
        self._hook("before_send")
        bucket = self.bucket(credentials)
        for attempt in stamina.retry_context(
            on=StripeRetryableError,
            attempts=self.limits.attempts,
            wait_initial=self.limits.wait_initial,
            wait_max=self.limits.wait_max,
        ):
            with attempt:
                bucket.acquire(tokens)
                result = fn()
                self._hook("after_send")
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def in_parallel(self, items: Sequence[U], fn: Callable[[U], T]) -> list[T]:
        """``fn`` over ``items``, up to ``concurrency`` at once, results in order."""
        if len(items) <= 1 or self.limits.concurrency <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(
            max_workers=min(self.limits.concurrency, len(items)), thread_name_prefix="stripe-push"
        ) as pool:
            return list(pool.map(fn, items))

    def session(self, key: AccountKey, port: StripePort, now: datetime) -> str:
        """The account's v2 session token, opened anew when it nears its expiry."""
        with self._lock:
            held = self._sessions.get(key)
        now_s = to_micros(now) // MICROS
        if held is None or held[1] - SESSION_RENEW_MARGIN_S <= now_s:
            session = port.open_meter_event_session()
            held = (session.token, session.expires_at_s)
            with self._lock:
                self._sessions[key] = held
        return held[0]

    def forget_session(self, key: AccountKey) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def _hook(self, point: str) -> None:
        if self.hook is not None:
            self.hook(point)


def account_key(credentials: StripeCredentials) -> AccountKey:
    digest = hashlib.sha256(credentials.secret_key.encode("utf-8")).hexdigest()[:16]
    return (digest, credentials.api_base)
