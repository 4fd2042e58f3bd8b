"""One API call's decisions, sans I/O: which node to try next, and whether to retry.

Both clients drive a :class:`CallState` from their own I/O loop, so the sync and async
clients fail over and back off identically (the policy itself is in :mod:`.retry`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from .errors import APIConnectionError, APITimeoutError

if TYPE_CHECKING:
    from ._core import ClientCore

NODE_COOLDOWN = 5.0  # seconds a node that failed is tried only after the healthy ones


class NodePool:
    """Round-robin over node URLs; a node that just failed goes to the back for a while."""

    def __init__(self, urls: Sequence[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.urls = list(urls)
        self._clock = clock
        self._down_until: dict[str, float] = {}
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def order(self) -> list[str]:
        """The nodes to try for one call, healthy ones first, rotating the starting node."""
        with self._lock:
            start = next(self._counter) % len(self.urls)
            now = self._clock()
            rotated = self.urls[start:] + self.urls[:start]
            healthy = [u for u in rotated if self._down_until.get(u, 0.0) <= now]
            down = [u for u in rotated if u not in healthy]
            return healthy + down

    def mark_down(self, url: str) -> None:
        with self._lock:
            self._down_until[url] = self._clock() + NODE_COOLDOWN

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)


class Retry:
    """Sleep for ``delay`` seconds, then try again."""

    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        self.delay = delay


class CallState:
    """The retry state machine of one API call (sans I/O)."""

    def __init__(self, core: ClientCore) -> None:
        self.core = core
        self.order = core.nodes.order()
        self.attempt = 0
        self.backoffs = 0
        self.node = self.order[0]

    def next_node(self) -> str:
        self.node = self.order[self.attempt % len(self.order)]
        self.attempt += 1
        return self.node

    def _fresh_node_left(self) -> bool:
        return self.attempt < len(self.order)

    def _delay(self, switch_node: bool) -> float:
        if switch_node and self._fresh_node_left():
            return 0.0
        self.backoffs += 1
        return self.core.retry.backoff(self.backoffs)

    def _exhausted(self) -> bool:
        return self.attempt >= self.core.retry.max_attempts

    def on_transport_error(self, exc: httpx.TransportError) -> Retry:
        """Decide after a network error: retry (maybe on another node) or raise."""
        self.core.nodes.mark_down(self.node)
        if self._exhausted():
            timed_out = isinstance(exc, httpx.TimeoutException)
            kind = APITimeoutError if timed_out else APIConnectionError
            raise kind(
                f"no stripemeter node answered after {self.attempt} attempt(s): "
                f"{type(exc).__name__}: {exc}",
                attempts=self.attempt,
            ) from exc
        return Retry(self._delay(switch_node=True))

    def on_response(self, response: httpx.Response) -> Retry | Any:
        """Decide after an HTTP answer: the decoded JSON body, a retry, or an exception."""
        status = response.status_code
        if status < 400:
            self.core.nodes.mark_up(self.node)
            if status == 204 or not response.content:
                return None
            return response.json()
        error = self.core.error_from_response(response)
        retryable = status in (408, 429) or status >= 500
        if not retryable or self._exhausted():
            raise error
        if status == 429:
            self.core.nodes.mark_up(self.node)
            wait = error.retry_after
            if wait is None:
                return Retry(self._delay(switch_node=False))
            return Retry(min(wait, self.core.retry.max_retry_after))
        self.core.nodes.mark_down(self.node)
        return Retry(self._delay(switch_node=True))
