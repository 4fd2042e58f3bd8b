"""The Stripe push loop: plan (one transaction per tenant), claim, send, record.

Each pass plans the tenants' changed counters into the outbox, then claims due rows with a
lease in short transactions, one per tenant (``service/tenant_rounds.py``; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, SQLite has one writer), sends them with no transaction open, and
records each result in a second short transaction. Any number of workers may run against one
PostgreSQL: planning is optimistic per counter and claiming skips rows another worker holds,
so no delta is pushed twice. The rows a plan wrote are held for the next send pass, which
leases them as written instead of reading them back (``planned.py``, ADR 0965).
``run_forever`` plans in a thread of its own beside the sending loop (ADR 0936): the two
are the halves a second worker already is. Runs in ``stripemeter worker`` and, on the
embedded SQLite store, inside ``serve``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.accounts import tenants_with_stripe
from stripemeter_server.service.stripe_sync.leases import LeaseKeeper
from stripemeter_server.service.stripe_sync.meter_errors import MeterErrorPoller
from stripemeter_server.service.stripe_sync.planned import PlannedRows
from stripemeter_server.service.stripe_sync.planner import plan_tenant_rows
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.sender import PushPolicy, PushSender, SendReport
from stripemeter_server.service.tenant_rounds import TenantRounds

log = logging.getLogger(__name__)
CRASH_POINTS = frozenset({"after_plan", "before_send", "after_send"})


def crash_hook(point: str | None) -> Callable[[str], None] | None:
    """TEST ONLY: a hook that SIGKILLs this process at ``point`` (``STRIPEMETER_TEST_CRASH_
    POINT``), so the end-to-end tests can prove a crash between outbox and Stripe is safe."""
    if not point:
        return None
    if point not in CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}")

    def hook(reached: str) -> None:
        if reached == point:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


@dataclass
class PassReport:
    planned: int
    claimed: int
    sent: int
    retrying: int
    failed: int
    reported: int = 0  # sent pushes parked by Stripe's asynchronous error reports


class StripePushWorker:
    def __init__(
        self,
        ctx: ServiceContext,
        policy: PushPolicy | None = None,
        *,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._policy = policy or PushPolicy()
        self._hook = hook
        self._sender = PushSender(ctx, self._policy, hook)
        self._leases = LeaseKeeper(ctx.store, ctx.clock, self._policy.lease_s)
        self._errors = MeterErrorPoller(ctx, self._policy.meter_errors_poll_s)
        self._since_us: int | None = None  # the next incremental scan's lower bound
        self._last_full_us: int | None = None
        self._rounds = TenantRounds()
        self._tenants: list[str] | None = None  # the last plan's list, reused by send_due
        self._backlog = False  # the last pass claimed a full batch
        self._planned_us: int | None = None
        # A plan's rows, leased by the next send pass without being read back (ADR 0965).
        self._held = PlannedRows(4 * self._policy.batch)

    def run_once(self, now: datetime | None = None, *, full: bool = False) -> PassReport:
        """One pass at ``now``: plan, send what is due, then read Stripe's asynchronous
        meter error reports when due. ``full`` forces a full sweep and a read (a worker's
        first pass is always both)."""
        at = now or self._ctx.clock.now()
        planned = 0
        if full or not self._behind(at):
            planned = self.plan(at, full=full)
        if self._hook is not None and planned:
            self._hook("after_plan")
        claimed, report = self.send_due(at)
        self._backlog = claimed >= self._policy.batch
        reported = self._read_error_reports(at, force=full)
        return PassReport(planned, claimed, report.sent, report.retrying, report.failed, reported)

    def _read_error_reports(self, at: datetime, *, force: bool) -> int:
        try:
            return self._errors.poll(at, force=force)
        except StripemeterError:
            log.exception("reading Stripe's meter error reports failed")
        return 0

    def _behind(self, at: datetime) -> bool:
        """While the last pass filled its batch (more is due than one pass sends), planning
        waits up to ``plan_interval_s``: each plan re-reads the counters written since the
        last one, and a pass that only sends drains the backlog faster."""
        if not self._backlog or self._planned_us is None:
            return False
        return to_micros(at) - self._planned_us < self._policy.plan_interval_s * MICROS

    def plan(self, at: datetime, *, full: bool = False) -> int:
        now_us = to_micros(at)
        sweep = (
            full
            or self._last_full_us is None
            or now_us - self._last_full_us >= self._policy.full_sweep_s * MICROS
        )
        since = None if sweep else self._since_us
        tenants = self._tenants = tenants_with_stripe(self._ctx.store, self._ctx.stripe.environment)
        planned = sum(self._plan_tenant(tenant, at, since) for tenant in tenants)
        self._since_us = now_us - int(self._policy.overlap_s * MICROS)
        self._planned_us = now_us
        if sweep:
            self._last_full_us = now_us
        return planned

    def _plan_tenant(self, tenant: str, at: datetime, since_us: int | None) -> int:
        overlap_us = int(self._policy.overlap_s * MICROS)
        try:
            rows = run_use_case(
                self._ctx.store,
                tenant,
                lambda uow: plan_tenant_rows(uow, at, since_us=since_us, overlap_us=overlap_us),
            )
        except StripemeterError:
            log.exception("planning pushes for tenant %s failed", tenant)
            return 0
        self._held.add(tenant, rows)  # committed: the next send pass leases them as they are
        return len(rows)

    def send_due(self, at: datetime) -> tuple[int, SendReport]:
        now_us = to_micros(at)
        lease_us = int(self._policy.lease_s * MICROS)
        tenants = self._tenants
        if tenants is None:
            tenants = tenants_with_stripe(self._ctx.store, self._ctx.stripe.environment)
        rows = self._rounds.claim(
            tenants, self._policy.batch, lambda t, most: self._claim(t, now_us, lease_us, most)
        )
        with self._leases.holding(rows, now_us):  # the heartbeat: see service/.../leases.py
            report = self._sender.send(rows, at)
        return len(rows), report

    def _claim(self, tenant: str, now_us: int, lease_us: int, most: int) -> list[PushRow]:
        """One tenant's claim: due rows older than the ones this worker planned and holds,
        then the held ones, leased as planned (``service/stripe_sync/planned.py``)."""
        claim, after = self._held.claimer(tenant, now_us, lease_us, most)
        rows = run_use_case(self._ctx.store, tenant, claim)
        after()
        return rows

    def run_forever(self, stop: threading.Event, interval_seconds: float = 1.0) -> None:
        """The loop of ``stripemeter worker`` (and of ``serve`` on the embedded store): a
        planning thread beside this sending loop (ADR 0936). Each send pass asks for the
        next plan as it starts, so that plan runs while the pass's calls are in flight and
        the next pass claims its rows at once: a change waits for one plan and at most one
        send pass, not for a whole pass of each. Plans follow the sender's pace (bigger
        under load, not more often), every ``interval_seconds`` when nothing is sent."""
        want_plan, planned = threading.Event(), threading.Event()
        planner = threading.Thread(
            target=self._plan_forever,
            args=(stop, want_plan, planned, interval_seconds),
            name="stripe-push-plan",
            daemon=True,
        )
        planner.start()
        try:
            self._send_forever(stop, want_plan, planned, interval_seconds)
        finally:
            if stop.is_set():  # else (an interrupt) the daemon thread ends with the process
                planner.join()  # no plan is left mid-transaction when the store closes

    def _plan_forever(
        self,
        stop: threading.Event,
        want_plan: threading.Event,
        planned: threading.Event,
        interval_seconds: float,
    ) -> None:
        """Plan once for each send pass, when it asks (an idle sending loop asks every
        ``interval_seconds``); while the sender has a full batch to send, at most every
        ``plan_interval_s`` (``_behind``, ADR 0820). A plan that wrote rows wakes the
        sending loop."""
        while not stop.is_set():
            if not want_plan.wait(interval_seconds):
                continue  # a long send pass: its plan has run; the next waits for the next
            want_plan.clear()
            at = self._ctx.clock.now()
            try:
                count = 0 if self._behind(at) else self.plan(at)
            except Exception:  # a broken plan must not kill the loop; the next one retries
                log.exception("stripe push planning failed")
                count = 0
            if count:
                if self._hook is not None:
                    self._hook("after_plan")
                planned.set()
        planned.set()  # the sending loop is not left waiting for a plan that will not come

    def _send_forever(
        self,
        stop: threading.Event,
        want_plan: threading.Event,
        planned: threading.Event,
        interval_seconds: float,
    ) -> None:
        """Claim and send what is due, read Stripe's error reports when due; with less
        than a full batch sent, wait for a plan that wrote rows (or ``interval_seconds``:
        retries and rows another worker planned are due without a plan of ours)."""
        while not stop.is_set():
            planned.clear()
            want_plan.set()  # the next plan runs while this pass sends
            at = self._ctx.clock.now()
            try:
                claimed, _ = self.send_due(at)
                self._backlog = claimed >= self._policy.batch
                self._read_error_reports(at, force=False)
            except Exception:  # a broken pass must not kill the loop; the next one retries
                log.exception("stripe push pass failed")
                claimed = 0
            if claimed < self._policy.batch:
                planned.wait(interval_seconds)
