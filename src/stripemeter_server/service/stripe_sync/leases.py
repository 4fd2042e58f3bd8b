"""The pusher's heartbeat: claimed outbox rows keep their lease while their owner lives.

A claim leases rows for a short time (``PushPolicy.lease_s``, seconds); while the sender
works on them a background thread renews the lease every ``lease_s / 4``. So a live worker
never loses rows however slow Stripe is, and a dead one's rows lapse within one lease: the
next worker's pass takes them over and resends them with the same identifiers, which
Stripe drops as repeats (ADR 0007, ADR 0702). A renewal is a compare-and-set on the lease
this worker wrote, so it never takes back a row another worker has since claimed.
Each beat renews tenant by tenant, one short transaction per tenant, so no transaction
spans tenants (ADR 0810), and the rows of a tenant leased together in one statement per
500 rows (ADR 0820).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

log = logging.getLogger(__name__)
Held = dict[tuple[str, str], int]  # (tenant, push id) → the lease_until_us this worker set


class LeaseKeeper:
    def __init__(self, store: Store, clock: Clock, lease_s: float) -> None:
        self._store = store
        self._clock = clock
        self._lease_us = int(lease_s * MICROS)
        self.interval_s = lease_s / 4

    @contextmanager
    def holding(self, rows: Sequence[PushRow], claimed_us: int) -> Iterator[Held]:
        """Renew the rows' leases in the background until the block ends."""
        held: Held = {(r.tenant_id, r.push_id): claimed_us + self._lease_us for r in rows}
        if not held:
            yield held
            return
        stop = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(held, stop), daemon=True, name="stripe-push-lease"
        )
        beat.start()
        try:
            yield held
        finally:
            stop.set()
            beat.join()

    def _beat(self, held: Held, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.renew(held)
            except Exception:  # a missed beat costs at most a takeover (same identifiers)
                log.exception("renewing push leases failed")

    def renew(self, held: Held) -> int:
        """One beat: extend every lease still held; forget the ones that are not."""
        until_us = to_micros(self._clock.now()) + self._lease_us
        due = {key: was for key, was in list(held.items()) if until_us > was}
        if not due:
            return 0

        groups: dict[str, dict[int, list[str]]] = {}  # rows leased together renew together
        for (tenant, push_id), was in due.items():
            groups.setdefault(tenant, {}).setdefault(was, []).append(push_id)

        def extend(tenant: str) -> Callable[[UnitOfWork], dict[tuple[str, str], bool]]:
            def run(uow: UnitOfWork) -> dict[tuple[str, str], bool]:
                kept: dict[tuple[str, str], bool] = {}
                for was, ids in groups[tenant].items():
                    moved = uow.pushes.renew_leases(tenant, ids, was, until_us)
                    kept.update({(tenant, i): i in moved for i in ids})
                return kept

            return run

        renewed: dict[tuple[str, str], bool] = {}
        for tenant in sorted(groups):  # one single-tenant transaction each (ADR 0810)
            renewed |= run_use_case(self._store, tenant, extend(tenant))
        for key, kept in renewed.items():
            if kept:
                held[key] = until_us
            else:
                held.pop(key, None)
        return sum(renewed.values())
