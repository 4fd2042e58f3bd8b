"""How the pusher makes each Stripe call: under the account's token bucket, with short
in-call retries (``stamina``) for a blip, on a bounded number of threads; and the v2 meter
event session each account's stream requests share until it nears its expiry."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, cast

import stamina

from stripemeter_server.domain.errors import StripeRetryableError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.ports.stripe import StripeCredentials, StripePort
from stripemeter_server.service.stripe_sync.rate_limit import TokenBucket

T = TypeVar("T")
U = TypeVar("U")
SESSION_RENEW_MARGIN_S = 60
LANE_BATCH = 25  # results a sending lane hands over at once
_DONE = object()
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
    # The last credentials' bucket: hashing the key on every call showed in profiles.
    _last: tuple[StripeCredentials, TokenBucket] | None = None

    def bucket(self, credentials: StripeCredentials) -> TokenBucket:
        last = self._last
        if last is not None and last[0] is credentials:  # a pass's calls share one object
            return last[1]
        key = account_key(credentials)
        with self._lock:  # sender threads share the account's one bucket
            bucket = self._buckets.get(key)
            if bucket is None:
                live = credentials.livemode
                rate = self.limits.rate_live if live else self.limits.rate_test
                bucket = self._buckets[key] = TokenBucket(rate)
            self._last = (credentials, bucket)
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

    def in_lanes(
        self,
        items: Sequence[U],
        send: Callable[[U], list[T]],
        record: Callable[[list[T]], None],
        record_every: int,
    ) -> None:
        """``send`` over ``items`` on up to ``concurrency`` lanes, handing the results to
        ``record`` (on this thread) ``record_every`` at a time while the other calls are
        still in flight, so a pass's store work does not wait for its last call. Each lane
        takes the next item when it is free and hands its results over ``LANE_BATCH`` at a
        time: a future per item woke this thread once per call, which cost more than the
        call's own request building (ADR 0895). An exception (a lane's, or recording's)
        stops the lanes from taking more items and is raised here once every lane has
        stopped: no call of the pass is still in flight when it ends."""
        if len(items) <= 1 or self.limits.concurrency <= 1:
            for item in items:
                record(send(item))
            return
        lanes = min(self.limits.concurrency, len(items))
        out: queue.SimpleQueue[list[T] | BaseException | None] = queue.SimpleQueue()
        todo = iter(items)
        take = threading.Lock()
        stopped = threading.Event()

        def lane() -> None:
            batch: list[T] = []
            try:
                while not stopped.is_set():
                    with take:
                        item = next(todo, _DONE)
                    if item is _DONE:
                        break
                    batch += send(cast(U, item))
                    if len(batch) >= LANE_BATCH:
                        out.put(batch)
                        batch = []
            except BaseException as exc:  # raised by the pass, below
                stopped.set()
                out.put(exc)
            finally:
                out.put(batch)
                out.put(None)

        for _ in range(lanes):
            threading.Thread(target=lane, name="stripe-push", daemon=True).start()
        done: list[T] = []
        error: BaseException | None = None
        finished = 0
        while finished < lanes:
            got = out.get()
            if got is None:
                finished += 1
            elif isinstance(got, BaseException):
                error = error or got
            elif error is None:
                done += got
                if len(done) >= record_every:
                    try:
                        record(done)
                    except BaseException as exc:  # lanes stop; nothing is sent after this
                        error = exc
                        stopped.set()
                    done = []
        if error is None:
            record(done)
        if error is not None:
            raise error

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
