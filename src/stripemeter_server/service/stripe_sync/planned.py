"""The rows a worker planned, held for its sender so they are leased without being read
back from the outbox (ADR 0965).

A plan's pending rows are what its transaction stored; once it has committed, the worker
keeps them here, tenant by tenant, oldest first. A send pass first claims from the store
the due rows other than those of the plans it holds rows of (retries, rows of other
workers and of a plan that committed but is not held yet: a claim by time would make
those wait a pass), then leases held rows by id (``lease_planned``): only rows no claim
has touched since the plan (``attempts`` 0), so a held row is exactly the stored one. A
held row that another worker has taken, or that the pass could not lease, simply stays in
the outbox, where a claim finds it: holding rows is an optimisation, never the only way a
row is sent.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence

from stripemeter_server.service.stripe_sync.ports.pushes import PENDING, PushRow
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)


class PlannedRows:
    """The held rows of one worker (its planning thread adds, its sending loop takes)."""

    def __init__(self, most_per_tenant: int) -> None:
        self._most = most_per_tenant  # beyond that, rows wait in the outbox for a claim
        self._held: dict[str, deque[PushRow]] = {}
        self._lock = threading.Lock()

    def add(self, tenant: str, rows: Sequence[PushRow]) -> None:
        """A committed plan's rows (the parked ones are not sent: left out)."""
        with self._lock:
            held = self._held.setdefault(tenant, deque())
            room = self._most - len(held)
            held.extend([r for r in rows if r.status is PENDING][: max(room, 0)])

    def take(self, tenant: str, most: int) -> tuple[list[PushRow], set[int]]:
        """Up to ``most`` held rows, oldest first, and the times of the plans that wrote
        every row held (a plan's rows share its ``created_us``): a claim leaves those out."""
        with self._lock:
            held = self._held.get(tenant)
            if not held:
                return [], set()
            plans = {r.created_us for r in held}
            return [held.popleft() for _ in range(min(most, len(held)))], plans

    def give_back(self, tenant: str, rows: Sequence[PushRow]) -> None:
        """Rows taken but not leased for want of room: first in line again."""
        if rows:
            with self._lock:
                self._held.setdefault(tenant, deque()).extendleft(reversed(rows))

    def claimer(
        self, tenant: str, now_us: int, lease_us: int, most: int
    ) -> tuple[Callable[[UnitOfWork], list[PushRow]], Callable[[], None]]:
        """The claim of one tenant in a send pass (run in one transaction), and what to do
        once it has committed (give back the held rows it had no room for)."""
        taken, plans = self.take(tenant, most)
        unleased: list[PushRow] = []

        def claim(uow: UnitOfWork) -> list[PushRow]:
            older = uow.pushes.claim_due(now_us, lease_us, most, planned_at=sorted(plans))
            room = most - len(older)
            unleased[:] = taken[room:]
            mine = uow.pushes.lease_planned(taken[:room], now_us, lease_us)
            # In a claim's order: sent in the plan's order, a pass's v1 calls took about
            # twice as long in the bench's lag phase (lag p50 0.3 → 1.2 s).
            mine.sort(key=lambda r: (r.next_attempt_us, r.created_us, r.push_id))
            return older + mine

        return claim, lambda: self.give_back(tenant, unleased)
