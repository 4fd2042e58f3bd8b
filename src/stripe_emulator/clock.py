"""The emulator's clock: one injectable source of "now", like a Stripe test clock.

Every time-dependent rule (24 h identifier window, 35-day timestamp window, session
expiry, renewals, webhook retries) reads this clock, so tests can freeze and advance
time without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class EmulatorClock:
    """Wall time plus an offset, or a frozen instant; advanced only on purpose."""

    def __init__(
        self, *, frozen_at: int | None = None, wall: Callable[[], float] = time.time
    ) -> None:
        self._wall = wall
        self._frozen_at = frozen_at
        self._offset = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        """Current emulated Unix time in whole seconds (Stripe's resolution)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return int(self._wall()) + self._offset

    def wall_now(self) -> int:
        """Real time, used only where a real receiver checks it (webhook signatures)."""
        return int(self._wall())

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: int | None = None) -> None:
        """Stop the clock at `at` (default: the current emulated time)."""
        current = self.now()
        with self._lock:
            self._frozen_at = current if at is None else at

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (keeps the accumulated offset)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - int(self._wall())
                self._frozen_at = None

    def advance(self, seconds: int) -> int:
        """Move time forward; returns the new now. Going backwards is refused."""
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, at: int) -> int:
        """Jump to `at` (forward only), keeping frozen/running mode."""
        return self.advance(max(0, at - self.now()))

    def snapshot(self) -> dict[str, int | None]:
        with self._lock:
            return {"frozen_at": self._frozen_at, "offset": self._offset}

    def restore(self, data: dict[str, int | None]) -> None:
        with self._lock:
            self._frozen_at = data.get("frozen_at")
            self._offset = int(data.get("offset") or 0)
