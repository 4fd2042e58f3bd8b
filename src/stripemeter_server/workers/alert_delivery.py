"""Delivers alert events to their webhooks from the outbox, with retries and a log.

Each pass claims due deliveries, tenant by tenant, in short transactions that lease them (so
no other worker takes them while the HTTP call runs), POSTs them signed — several at once,
bounded — then records each attempt and the next state in a second short transaction. No
transaction is held open across HTTP: on SQLite that would block every writer. Failed
attempts are retried with exponential backoff (capped) until 24 hours after the event, then
given up as ``failed``.

Destinations are checked and pinned by ``outbound/`` (ADR 0700): a name resolving to a
loopback, private, link-local… address is refused (``blocked``, not retried) unless the
operator allows private webhooks, and the connection goes to the address that was checked.
An attempt's ``error`` is a category (``timeout``, ``refused``, ``tls``, ``http_status``,
``blocked``), never the socket error itself, which would tell a prober which ports are open.

Two rules keep a slow receiver from causing a double delivery or a stale signature: the lease
is derived from the policy so that a live worker always finishes its batch inside it
(``DeliveryPolicy.lease``), and each request is signed when it is sent, not when the pass began.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from stripemeter_server import __version__
from stripemeter_server.domain.alerts import SIGNATURE_HEADER, signature_header
from stripemeter_server.domain.timestamps import MICROS, from_micros, to_micros
from stripemeter_server.outbound.pinned import PublicAddressGuard, failure_category, pinned_client
from stripemeter_server.service.alerts.events import event_body
from stripemeter_server.service.alerts.ports import (
    DELIVERED,
    FAILED,
    PENDING,
    DeliveryAttempt,
    OutboxItem,
)
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.tenant_rounds import TenantRounds, all_tenants

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    first_retry: timedelta = timedelta(seconds=10)
    max_retry: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    timeout_seconds: float = 10.0
    batch: int = 50
    concurrency: int = 8
    allow_private: bool = False  # STRIPEMETER_ALLOW_PRIVATE_WEBHOOKS

    @property
    def lease(self) -> timedelta:
        """Longer than the slowest possible pass: every request of the batch timing out, in
        waves of ``concurrency``, plus the same again for the database work around them."""
        waves = -(-self.batch // self.concurrency)
        return timedelta(seconds=2 * (waves + 1) * self.timeout_seconds)

    def retry_delay(self, attempt: int) -> timedelta:
        """10 s, 20 s, 40 s, ... capped at an hour (``attempt`` counts from 1)."""
        grown: timedelta = self.first_retry * 2 ** min(attempt - 1, 30)
        return min(grown, self.max_retry)


class AlertDeliveryWorker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy or DeliveryPolicy()
        self._client = client or pinned_client(
            PublicAddressGuard(allow_private=self._policy.allow_private),
            timeout=self._policy.timeout_seconds,
        )
        self._rounds = TenantRounds()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AlertDeliveryWorker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim what is due at ``now`` and attempt each; returns attempts made."""
        at = now or self._clock.now()
        lease_us = int(self._policy.lease.total_seconds() * MICROS)
        items = self._rounds.claim(
            all_tenants(self._store),
            self._policy.batch,
            lambda tenant, most: run_use_case(
                self._store, tenant, lambda uow: uow.alerts.claim_due(to_micros(at), lease_us, most)
            ),
        )
        if len(items) <= 1:
            for item in items:
                self._attempt(item, at)
            return len(items)
        with ThreadPoolExecutor(
            max_workers=self._policy.concurrency, thread_name_prefix="alert-delivery"
        ) as pool:
            list(pool.map(lambda item: self._attempt(item, at), items))
        return len(items)

    def run_forever(self, stop: threading.Event, interval_seconds: float = 1.0) -> None:
        """The loop of ``stripemeter worker`` (and ``serve --with-worker``)."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a broken pass must not kill the loop; the next one retries
                log.exception("alert delivery pass failed")
                busy = 0
            if not busy:
                stop.wait(interval_seconds)

    def _attempt(self, item: OutboxItem, now: datetime) -> None:
        event, rule = run_use_case(
            self._store,
            item.tenant_id,
            lambda uow: (
                uow.alerts.event_by_seq(item.event_seq),
                uow.alerts.get_rule(item.rule_id),
            ),
            read_only=True,
        )
        attempt = item.attempts + 1
        if event is None or rule is None or rule.secret is None:
            self._record(
                item, now, attempt, None, "cancelled", "the alert rule was deleted", 0, FAILED
            )
            return
        body = json.dumps(event_body(event), separators=(",", ":")).encode("utf-8")
        stamp = int(self._signing_time(now).timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"stripemeter/{__version__}",
            SIGNATURE_HEADER: signature_header(rule.secret, stamp, body),
            "Stripemeter-Event-Id": event.event_id,
            "Stripemeter-Delivery-Id": item.delivery_id,
        }
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            response = self._client.post(item.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = "http_status"
        except httpx.HTTPError as exc:
            error = failure_category(exc)
            log.info("alert delivery %s failed: %s", item.delivery_id, error)
        duration = int((time.perf_counter() - started) * MICROS)
        if error is None:
            self._record(item, now, attempt, status_code, "delivered", None, duration, DELIVERED)
            return
        retry_at = now + self._policy.retry_delay(attempt)
        if (
            error == "blocked"
            or retry_at - from_micros(item.created_us) > self._policy.give_up_after
        ):
            self._record(item, now, attempt, status_code, "failed", error, duration, FAILED)
            return
        self._record(
            item, now, attempt, status_code, "retrying", error, duration, PENDING, next_at=retry_at
        )

    def _signing_time(self, pass_time: datetime) -> datetime:
        """The time of sending (receivers check it against their clock); a pass's time is
        used only when it is later, i.e. a pass run for a future instant in a simulation."""
        return max(self._clock.now(), pass_time)

    def _record(
        self,
        item: OutboxItem,
        now: datetime,
        attempt: int,
        status_code: int | None,
        outcome: str,
        error: str | None,
        duration_us: int,
        status: str,
        *,
        next_at: datetime | None = None,
    ) -> None:
        record = DeliveryAttempt(
            delivery_id=item.delivery_id,
            attempt=attempt,
            event_seq=item.event_seq,
            url=item.url,
            attempted_us=to_micros(now),
            status_code=status_code,
            outcome=outcome,
            error=error,
            duration_us=duration_us,
            next_attempt_us=None if next_at is None else to_micros(next_at),
        )
        run_use_case(
            self._store,
            item.tenant_id,
            lambda uow: uow.alerts.record_attempt(record, status=status, now_us=to_micros(now)),
        )
