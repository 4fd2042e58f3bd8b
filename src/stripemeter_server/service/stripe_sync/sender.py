"""Sending claimed outbox rows to Stripe, outside any transaction, and recording the result.

Each row is sent as it was planned (same identifier, value and timestamp on every attempt),
so a resend after a crash, a timeout or a lost response is dropped by Stripe as a repeat
(identifier dedupe, idempotency key) and counted once. Short in-call retries (``stamina``)
absorb a blip; a row still failing with a retryable error goes back to ``pending`` with
exponential backoff and jitter; a permanent refusal parks it as ``failed`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from stripemeter_server.domain.errors import (
    StripeCallError,
    StripemeterError,
    StripePermanentError,
)
from stripemeter_server.domain.push_plan import too_old_for_stripe
from stripemeter_server.domain.stripe_mapping import SyncMode, Transport
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ports.stripe import (
    MeterEventOut,
    StripeCredentials,
    StripePort,
    StripeSessionExpiredError,
)
from stripemeter_server.service.stripe_sync.ports.pushes import TOO_OLD, PushRow
from stripemeter_server.service.stripe_sync.push_results import (
    AttemptResult,
    NotSent,
    Outcome,
    ResultRecorder,
    SendReport,
    Sent,
    failure_of,
)
from stripemeter_server.service.stripe_sync.stripe_calls import (
    CallLimits,
    StripeCalls,
    account_key,
)
from stripemeter_server.service.stripe_sync.targets import (
    UNKNOWN_CUSTOMER_CODES,
    known_customers,
    resolve_customer,
    resolve_usage_target,
)

__all__ = ["PushPolicy", "PushSender", "SendReport", "resend_key"]
STREAM_BATCH = 100
RECORD_EVERY = 200  # results recorded while the other calls are still in flight


@dataclass(frozen=True)
class PushPolicy:
    """How hard and how fast the pusher talks to Stripe (``STRIPEMETER_PUSH_*``)."""

    rate_live: float = 500.0  # meter events/s per account, under Stripe's live 1000/s
    rate_test: float = 25.0  # test-mode keys get a much lower limit from Stripe
    call_attempts: int = 3
    call_wait_initial: float = 0.2
    call_wait_max: float = 2.0
    first_retry_s: float = 5.0
    max_retry_s: float = 600.0
    lease_s: float = 8.0  # renewed by a heartbeat while held (service/stripe_sync/leases.py)
    batch: int = 1000  # rows claimed per pass (ADR 0820)
    concurrency: int = 8  # Stripe calls in flight at once (never two for one counter)
    overlap_s: float = 60.0  # how long an ingest may take to commit; the sweep catches later
    full_sweep_s: float = 60.0
    meter_errors_poll_s: float = 30.0  # reading Stripe's asynchronous error reports
    plan_interval_s: float = 0.5  # with a backlog, plan at most this often (ADR 0820)


class _Failure(Exception):
    """Raised inside an attempt to end it with ``result``."""

    def __init__(self, message: str, code: str | None, *, permanent: bool) -> None:
        super().__init__(message)
        self.result = NotSent(message, code, permanent)


@dataclass
class PushSender:
    ctx: ServiceContext
    policy: PushPolicy = field(default_factory=PushPolicy)
    hook: Callable[[str], None] | None = None  # test-only crash points (see workers/)
    _calls: StripeCalls = field(init=False)
    _results: ResultRecorder = field(init=False)

    def __post_init__(self) -> None:
        p = self.policy
        self._calls = StripeCalls(
            CallLimits(
                p.rate_live,
                p.rate_test,
                p.call_attempts,
                p.call_wait_initial,
                p.call_wait_max,
                p.concurrency,
            ),
            self.hook,
        )
        self._results = ResultRecorder(self.ctx, p.first_retry_s, p.max_retry_s)

    def send(self, rows: Sequence[PushRow], now: datetime) -> SendReport:
        report = SendReport()
        by_tenant: dict[str, list[PushRow]] = {}
        for row in rows:
            by_tenant.setdefault(row.tenant_id, []).append(row)
        for tenant, tenant_rows in by_tenant.items():
            self._send_tenant(tenant, tenant_rows, now, report)
        return report

    # --- per tenant -------------------------------------------------------------------

    def _send_tenant(
        self, tenant: str, rows: list[PushRow], now: datetime, report: SendReport
    ) -> None:
        with self.ctx.store.unit_of_work(tenant, read_only=True) as uow:
            credentials = self.ctx.stripe.credentials(uow)
        if credentials is None:
            for row in rows:
                self._results.record_one(
                    row,
                    now,
                    report,
                    NotSent(
                        "no Stripe account is configured for this tenant (PUT /v1/stripe/account)",
                        "stripe_not_configured",
                        permanent=True,
                    ),
                )
            return
        port = self.ctx.stripe.port(credentials)
        known = self._known_customers(tenant, rows, now)
        stream: list[PushRow] = []
        singles: list[PushRow] = []
        for r in rows:
            if r.transport is Transport.V2_STREAM and r.mode is SyncMode.METER_EVENTS:
                stream.append(r)
            else:
                singles.append(r)
        # Streams first: 100 events a request take a fraction of one v1 call each, so they
        # do not wait behind a pass's v1 calls (ADR 0850); the two never share a counter.
        # Stream rows look their customer up in ``known`` as they are sent, not copied
        # with it filled in (``dataclasses.replace`` per row, ADR 0946).
        self._send_streams(stream, port, credentials, now, report, known)
        self._attempt_all(_filled(singles, known), port, credentials, now, report)

    def _known_customers(self, tenant: str, rows: list[PushRow], now: datetime) -> dict[str, str]:
        """The Stripe customers the store knows for the rows that lack one: one read
        transaction for the batch instead of one per row."""
        unknown = {r.customer_ref for r in rows if not r.stripe_customer_id}
        return known_customers(self.ctx.store, tenant, unknown, now) if unknown else {}

    def _attempt_all(
        self,
        rows: list[PushRow],
        port: StripePort,
        credentials: StripeCredentials,
        now: datetime,
        report: SendReport,
    ) -> None:
        """Send the rows, several at once (bounded), but never two for one customer and
        meter at the same time (Stripe allows one call in flight per customer per meter):
        rows are grouped by (customer, target) and each group is sent in order."""
        groups: dict[tuple[str, str | None], list[PushRow]] = {}
        for row in rows:
            groups.setdefault((row.customer_ref, row.target), []).append(row)

        def send_group(group: list[PushRow]) -> list[Outcome]:
            return [(row, self._attempt(row, port, credentials, now)) for row in group]

        self._send_recording(list(groups.values()), send_group, report, RECORD_EVERY)

    def _send_recording(
        self,
        items: Sequence[list[PushRow]],
        send: Callable[[list[PushRow]], list[Outcome]],
        report: SendReport,
        record_every: int,
    ) -> None:
        """``send`` over ``items`` in lanes, the results recorded ``record_every`` at a
        time while the other calls are still in flight (ADR 0895)."""
        self._calls.in_lanes(
            items, send, lambda done: self._results.record_all(done, report), record_every
        )

    def _attempt(
        self, row: PushRow, port: StripePort, credentials: StripeCredentials, now: datetime
    ) -> AttemptResult:
        """Send one row: sent (to which Stripe customer), or why not."""
        try:
            self._check_age(row, now)
            if row.mode is SyncMode.USAGE_RECORDS:
                return Sent(self._send_usage_record(row, port, credentials, now))
            return Sent(self._send_meter_event(row, port, credentials, now))
        except _Failure as failure:
            return failure.result
        except StripeCallError as exc:
            return failure_of(exc)
        except StripemeterError as exc:  # e.g. the store is briefly unavailable
            return NotSent(exc.message, exc.code, permanent=False)

    def _check_age(self, row: PushRow, now: datetime) -> None:
        if (
            row.mode is SyncMode.METER_EVENTS
            and row.timestamp_s is not None
            and too_old_for_stripe(row.timestamp_s, to_micros(now) // MICROS)
        ):
            raise _Failure(
                "the push is more than 35 days old: Stripe refuses it", TOO_OLD, permanent=True
            )

    def _send_meter_event(
        self, row: PushRow, port: StripePort, credentials: StripeCredentials, now: datetime
    ) -> str:
        assert row.target is not None and row.timestamp_s is not None
        customer = self._customer(row, port, now, refresh=False)
        for refresh in (False, True):
            if refresh:
                customer = self._customer(row, port, now, refresh=True)
            event = MeterEventOut(
                row.target, customer, row.value, row.push_id, row.timestamp_s, resend_key(row)
            )
            try:
                self._calls.call(credentials, partial(port.send_meter_event, event))
                return customer
            except StripePermanentError as exc:
                if refresh or exc.stripe_code not in UNKNOWN_CUSTOMER_CODES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_usage_record(
        self, row: PushRow, port: StripePort, credentials: StripeCredentials, now: datetime
    ) -> str:
        customer = self._customer(row, port, now, refresh=False)
        target = resolve_usage_target(self.ctx.store, row, port, customer, now)
        if target is None:
            raise _Failure(
                f"no active subscription of {customer} has an item with the "
                "mapping's price (or set one: PUT /v1/customers/{customerRef}/"
                f"stripe-subscription-items/{row.metric})",
                "subscription_item_not_found",
                permanent=True,
            )
        item, timestamp = target
        self._calls.call(
            credentials,
            lambda: port.set_usage_record(item, max(row.value, 0), timestamp, row.push_id),
        )
        return customer

    def _customer(self, row: PushRow, port: StripePort, now: datetime, *, refresh: bool) -> str:
        if row.stripe_customer_id and not refresh:
            return row.stripe_customer_id
        found = resolve_customer(
            self.ctx.store, row.tenant_id, port, row.customer_ref, now, refresh=refresh
        )
        if found is None:
            raise _Failure(
                f"no Stripe customer for customerRef {row.customer_ref!r} (set the "
                "customer's stripeCustomerId, or Stripe metadata "
                "stripemeter_customer_ref)",
                "customer_not_found",
                permanent=True,
            )
        return found

    # --- v2 streams -------------------------------------------------------------------

    def _send_streams(
        self,
        rows: list[PushRow],
        port: StripePort,
        credentials: StripeCredentials,
        now: datetime,
        report: SendReport,
        known: dict[str, str],
    ) -> None:
        """v2 stream requests of up to 100 events, several in flight; a (customer, meter)
        is in one request of a wave at most, and waves go one after the other."""
        waves: list[list[PushRow]] = []
        depth: dict[tuple[str, str | None], int] = {}
        for row in rows:
            level = depth[(row.customer_ref, row.target)] = (
                depth.get((row.customer_ref, row.target), -1) + 1
            )
            if level == len(waves):
                waves.append([])
            waves[level].append(row)
        for wave in waves:
            chunks = [wave[i : i + STREAM_BATCH] for i in range(0, len(wave), STREAM_BATCH)]
            self._send_recording(  # a wave's requests are short: recorded together
                chunks,
                lambda chunk: self._send_stream(chunk, port, credentials, now, known),
                report,
                len(wave),
            )

    def _send_stream(
        self,
        rows: list[PushRow],
        port: StripePort,
        credentials: StripeCredentials,
        now: datetime,
        known: dict[str, str],
    ) -> list[Outcome]:
        done: list[Outcome] = []
        events: list[tuple[PushRow, MeterEventOut]] = []
        for row in rows:
            try:
                self._check_age(row, now)
                customer = (
                    row.stripe_customer_id
                    or known.get(row.customer_ref)
                    or self._customer(row, port, now, refresh=False)
                )
            except _Failure as failure:
                done.append((row, failure.result))
                continue
            except StripeCallError as exc:
                done.append((row, failure_of(exc)))
                continue
            assert row.target is not None and row.timestamp_s is not None
            events.append(
                (row, MeterEventOut(row.target, customer, row.value, row.push_id, row.timestamp_s))
            )
        if not events:
            return done
        key = account_key(credentials)
        outs = [e for _, e in events]

        def once() -> None:
            token = self._calls.session(key, port, now)
            try:
                port.stream_meter_events(token, outs)
            except StripeSessionExpiredError:
                self._calls.forget_session(key)  # renew on the next attempt
                raise

        try:
            self._calls.call(credentials, once, tokens=1)
            done += [(row, Sent(e.stripe_customer_id)) for row, e in events]
        except StripeCallError as exc:
            done += [(row, failure_of(exc)) for row, _ in events]
        return done


def _filled(rows: list[PushRow], known: dict[str, str]) -> list[PushRow]:
    """The rows with their Stripe customer filled in where the store knows it."""
    return [
        r._replace(stripe_customer_id=known[r.customer_ref])
        if not r.stripe_customer_id and r.customer_ref in known
        else r
        for r in rows
    ]


def resend_key(row: PushRow) -> str | None:
    """The idempotency key of a push Stripe once accepted and then reported refused
    (``service/stripe_sync/meter_errors.py``): a new one per acceptance, else the cached 200
    would be replayed and the usage never counted. None: the identifier, as planned."""
    return None if row.sent_us is None else f"{row.push_id}-after-{row.sent_us}"
