"""Buffered mode: background batching with bounded memory and no silent loss.

``buf = client.buffer(max_events=500, max_interval=1.0)`` returns an :class:`EventBuffer`.
``buf.track(...)`` stamps the event (``ts`` and idempotency key are fixed at that moment)
and queues it; a background thread sends a batch when ``max_events`` are queued or
``max_interval`` seconds after the oldest queued event, through the client's normal
retrying ``ingest`` (same keys on every retry, so nothing is counted twice).

Policy when the server is unreachable:

* A batch that cannot be sent stays queued, at the front, and is retried with backoff for
  as long as the buffer is open. Queued and in-flight events together never exceed
  ``max_buffered``.
* When the queue is full, ``on_full`` decides:

  - ``"block"`` (default): ``track()`` waits for room (at most ``block_timeout`` seconds,
    then raises :class:`~stripemeter.errors.BufferFullError`; ``None`` waits forever);
  - ``"drop"``: ``track()`` returns ``False`` at once and ``on_drop([event], "buffer_full")``
    is called. ``on_drop`` is mandatory with this policy.

* ``close()`` (also the context manager, ``client.close()`` and an ``atexit`` hook) sends
  everything queued, trying for up to ``close_timeout`` seconds. Events still unsent then go
  to ``on_drop(events, "undelivered")``.
* A batch the server refuses as a whole (401, 403, 413, 400…) goes to
  ``on_drop(events, "refused")``; events the server rejects one by one (unknown metric,
  conflict, …) go to ``on_rejected([(event, result), …])``.
* Without the matching callback, such events are kept in :attr:`EventBuffer.undelivered` /
  :attr:`EventBuffer.rejected`, logged, and ``close()`` raises
  :class:`~stripemeter.errors.BufferFlushError` listing them. An accepted event is thus
  always either stored by the server or reported to the caller.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal

from ._core import ClientCore
from .errors import (
    APIConnectionError,
    APIError,
    BufferClosedError,
    BufferFlushError,
    BufferFullError,
    ConfigurationError,
    RateLimitError,
    ServerError,
)
from .idempotency import Quantity, Timestamp
from .models import Event, EventResult, IngestResult

__all__ = ["BufferStats", "DropCallback", "EventBuffer", "RejectCallback"]

logger = logging.getLogger("stripemeter")

DropCallback = Callable[[list[Event], str], None]
"""``on_drop(events, reason)``; reason is ``"buffer_full"``, ``"undelivered"`` or ``"refused"``."""

RejectCallback = Callable[[list[tuple[Event, EventResult]]], None]
"""``on_rejected(pairs)``: events the server answered with ``rejected`` or ``conflict``."""

_live_buffers: weakref.WeakSet[EventBuffer] = weakref.WeakSet()


def _close_all_at_exit() -> None:
    for buf in list(_live_buffers):
        try:
            buf.close()
        except BufferFlushError as exc:
            logger.error("stripemeter buffer closed at exit with undelivered events: %s", exc)


atexit.register(_close_all_at_exit)


class BufferStats:
    """Counters of a buffer (read them any time)."""

    __slots__ = ("accepted", "dropped", "rejected", "sent", "stored")

    def __init__(self) -> None:
        self.accepted = 0  # events taken by track()/add()
        self.sent = 0  # events in batches the server answered
        self.stored = 0  # … of which accepted or duplicate
        self.rejected = 0  # … of which rejected or conflict
        self.dropped = 0  # events handed to on_drop / undelivered

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"BufferStats({fields})"


class EventBuffer:
    """Background batcher; see the module documentation for the exact policy."""

    def __init__(
        self,
        core: ClientCore,
        send: Callable[[list[Event]], IngestResult],
        *,
        max_events: int = 500,
        max_interval: float = 1.0,
        max_buffered: int = 10_000,
        on_full: Literal["block", "drop"] = "block",
        block_timeout: float | None = None,
        on_drop: DropCallback | None = None,
        on_rejected: RejectCallback | None = None,
        close_timeout: float = 30.0,
        retry_pause: Callable[[int], float] | None = None,
    ) -> None:
        if max_events < 1 or max_buffered < max_events:
            raise ConfigurationError("need 1 <= max_events <= max_buffered")
        if on_full not in ("block", "drop"):
            raise ConfigurationError('on_full must be "block" or "drop"')
        if on_full == "drop" and on_drop is None:
            raise ConfigurationError('on_full="drop" needs an on_drop callback')
        self._core = core
        self._send = send
        self.max_events = max_events
        self.max_interval = max_interval
        self.max_buffered = max_buffered
        self.on_full = on_full
        self.block_timeout = block_timeout
        self.close_timeout = close_timeout
        self._on_drop = on_drop
        self._on_rejected = on_rejected
        self._retry_pause = retry_pause or (lambda n: core.retry.backoff(n))
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._closed = False
        self._flush_requested = False
        self._oldest_at: float | None = None
        self._close_deadline = float("inf")
        self.stats = BufferStats()
        self.undelivered: list[Event] = []
        self.rejected: list[tuple[Event, EventResult]] = []
        self._thread = threading.Thread(target=self._run, name="stripemeter-buffer", daemon=True)
        self._thread.start()
        _live_buffers.add(self)

    # -- producer side ---------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events queued or in flight."""
        with self._cond:
            return len(self._queue)

    def track(
        self,
        metric: str,
        customer_ref: object = None,
        quantity: Quantity = 1,
        ts: Timestamp | None = None,
        meta: Mapping[str, Any] | None = None,
        resource_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        """Queue one event (stamped now). ``True`` if taken, ``False`` if dropped (policy
        ``"drop"``, after calling ``on_drop``)."""
        event = self._core.make_event(
            metric, customer_ref, quantity, ts, meta, resource_id, idempotency_key
        )
        return self.add(event)

    def add(self, event: Event, *, block: bool = True) -> bool:
        """Queue an :class:`Event`. With ``block=False`` a full buffer under policy
        ``"block"`` raises :class:`BufferFullError` at once instead of waiting."""
        self._core.event_payload(event)  # validate (meta, quantity) in the caller's thread
        deadline = None if self.block_timeout is None else time.monotonic() + self.block_timeout
        drop = False
        with self._cond:
            while True:
                if self._closing:
                    raise BufferClosedError("the buffer is closed")
                if len(self._queue) < self.max_buffered:
                    break
                if self.on_full == "drop":
                    drop = True
                    self.stats.dropped += 1
                    break
                if not block:
                    raise BufferFullError(f"buffer full ({self.max_buffered} events)")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise BufferFullError(
                        f"buffer stayed full ({self.max_buffered} events) for {self.block_timeout}s"
                    )
                self._cond.wait(remaining)
            if not drop:
                self._queue.append(event)
                self.stats.accepted += 1
                if self._oldest_at is None:
                    self._oldest_at = time.monotonic()
                if len(self._queue) >= self.max_events:
                    self._cond.notify_all()
        if drop:
            self._call_on_drop([event], "buffer_full")
            return False
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now; wait until the queue is empty (or ``timeout``).
        Returns ``True`` if the queue drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flush_requested = True
            self._cond.notify_all()
            while self._queue and self._thread.is_alive():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return not self._queue

    def close(self, timeout: float | None = None) -> None:
        """Stop taking events, send everything queued (up to ``timeout``, default
        ``close_timeout``), and report what could not be delivered (see module docs)."""
        with self._cond:
            if self._closed:
                return
            self._closing = True
            self._close_deadline = time.monotonic() + (
                self.close_timeout if timeout is None else timeout
            )
            self._cond.notify_all()
        self._thread.join()
        with self._cond:
            self._closed = True
            leftover = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        _live_buffers.discard(self)
        if leftover:
            self._give_up(leftover, "undelivered")
        if self.undelivered or self.rejected:
            raise BufferFlushError(
                f"{len(self.undelivered)} event(s) undelivered, "
                f"{len(self.rejected)} rejected by the server",
                undelivered=self.undelivered,
                rejected=[result for _, result in self.rejected],
            )

    def __enter__(self) -> EventBuffer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- background sender -----------------------------------------------------------------

    def _due(self) -> bool:
        if not self._queue:
            return False
        if self._closing or self._flush_requested or len(self._queue) >= self.max_events:
            return True
        return (
            self._oldest_at is not None and time.monotonic() - self._oldest_at >= self.max_interval
        )

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._due():
                    if self._closing and not self._queue:
                        return
                    wait = None
                    if self._oldest_at is not None:
                        wait = max(0.0, self._oldest_at + self.max_interval - time.monotonic())
                    self._cond.wait(wait)
                batch = list(self._queue)[: self.max_events]
            try:
                result = self._send(batch)
            except (APIConnectionError, ServerError, RateLimitError) as exc:
                failures += 1
                logger.warning("stripemeter buffer: batch of %d not sent yet: %s", len(batch), exc)
                with self._cond:
                    if self._closing and time.monotonic() >= self._close_deadline:
                        return  # close() reports the queue as undelivered
                    pause = self._retry_pause(failures)
                    if self._closing:
                        pause = min(pause, max(0.0, self._close_deadline - time.monotonic()))
                    self._cond.wait(pause)
                continue
            except APIError as exc:
                logger.error("stripemeter buffer: batch of %d refused: %s", len(batch), exc)
                self._finish(batch)
                self._give_up(batch, "refused")
                continue
            except Exception:  # a bug or a bad event: never lose the batch silently
                logger.exception("stripemeter buffer: unexpected error sending a batch")
                self._finish(batch)
                self._give_up(batch, "refused")
                continue
            failures = 0
            self._finish(batch)
            self.stats.sent += len(batch)
            self.stats.stored += result.stored
            bad = [(batch[r.index], r) for r in result.results if not r.stored]
            if bad:
                self.stats.rejected += len(bad)
                self._report_rejected(bad)

    def _finish(self, batch: list[Event]) -> None:
        with self._cond:
            for _ in batch:
                self._queue.popleft()
            self._oldest_at = time.monotonic() if self._queue else None
            if not self._queue:
                self._flush_requested = False
            self._cond.notify_all()

    def _call_on_drop(self, events: list[Event], reason: str) -> None:
        assert self._on_drop is not None
        try:
            self._on_drop(events, reason)
        except Exception:
            logger.exception("stripemeter buffer: on_drop callback failed")

    def _give_up(self, events: list[Event], reason: str) -> None:
        self.stats.dropped += len(events)
        if self._on_drop is not None:
            self._call_on_drop(events, reason)
        else:
            logger.error("stripemeter buffer: %d event(s) %s", len(events), reason)
            self.undelivered.extend(events)

    def _report_rejected(self, pairs: list[tuple[Event, EventResult]]) -> None:
        if self._on_rejected is not None:
            try:
                self._on_rejected(pairs)
            except Exception:
                logger.exception("stripemeter buffer: on_rejected callback failed")
        else:
            for event, result in pairs:
                logger.error(
                    "stripemeter buffer: event %s %s: %s", event, result.status, result.error_code
                )
            self.rejected.extend(pairs)
