"""What became of a sent outbox row, and recording it: sent, back to pending with backoff,
or parked as failed.

Results are recorded in short transactions, the sent ones of a chunk in one executemany. If
recording fails, the rows stay leased and are sent again later with the same identifiers,
which Stripe drops as repeats: a push is never counted twice, nor lost.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.errors import StripemeterError, StripePermanentError
from stripemeter_server.domain.push_plan import retry_delay_s
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Sent:
    """Stripe has the row's value (now, or already from an earlier attempt)."""

    stripe_customer_id: str


@dataclass(frozen=True, slots=True)
class NotSent:
    """The row ends this attempt unsent: retried later, or parked when ``permanent``."""

    message: str
    code: str | None
    permanent: bool


AttemptResult = Sent | NotSent
Outcome = tuple[PushRow, AttemptResult]


def failure_of(exc: StripemeterError) -> NotSent:
    code = getattr(exc, "stripe_code", None) or exc.code
    return NotSent(exc.message, code, permanent=isinstance(exc, StripePermanentError))


@dataclass(frozen=True)
class ResultRecorder:
    """Writes attempts' results to the outbox (``first_retry_s``/``max_retry_s``: the
    backoff of a row that goes back to pending)."""

    ctx: ServiceContext
    first_retry_s: float
    max_retry_s: float

    def record_all(self, results: Sequence[Outcome], report: SendReport) -> None:
        """Record one tenant's results in one transaction, the sent ones in one
        executemany. ``sent_us`` is read now, when Stripe has answered (ADR 0850)."""
        if not results:
            return
        ordered = sorted(results, key=lambda pair: pair[0].push_id)  # the lease beat's order
        now = self.ctx.clock.now()
        with self.ctx.store.unit_of_work(results[0][0].tenant_id) as uow:
            sent = [
                (row.push_id, result.stripe_customer_id)
                for row, result in ordered
                if isinstance(result, Sent)
            ]
            if len(sent) == len(ordered):
                uow.pushes.mark_sent_many(sent, to_micros(now))
                report.sent += len(ordered)
            else:  # rare: keep push-id order across sent and failed rows
                for row, result in ordered:
                    self._record(uow, row, now, report, result)
            uow.commit()

    def record_one(
        self, row: PushRow, now: datetime, report: SendReport, result: AttemptResult
    ) -> None:
        with self.ctx.store.unit_of_work(row.tenant_id) as uow:
            self._record(uow, row, now, report, result)
            uow.commit()

    def _record(
        self,
        uow: UnitOfWork,
        row: PushRow,
        now: datetime,
        report: SendReport,
        result: AttemptResult,
    ) -> None:
        now_us = to_micros(now)
        if isinstance(result, Sent):
            uow.pushes.mark_sent(
                row.push_id, stripe_customer_id=result.stripe_customer_id, now_us=now_us
            )
            report.sent += 1
        elif result.permanent:
            uow.pushes.mark_failed(
                row.push_id, error=result.message, code=result.code, now_us=now_us
            )
            # Loud by design: a parked push is usage Stripe will not bill until acted on.
            log.error(
                "Stripe refused push %s (tenant %s, %s): %s; parked as failed, retry "
                "with POST /v1/pushes/%s/retry once fixed",
                row.push_id,
                row.tenant_id,
                result.code,
                result.message,
                row.push_id,
            )
            report.failed += 1
        else:
            delay = retry_delay_s(
                row.attempts + 1, self.first_retry_s, self.max_retry_s, random.random()
            )
            uow.pushes.mark_retry(
                row.push_id,
                next_attempt_us=now_us + int(delay * MICROS),
                error=result.message,
                code=result.code,
                now_us=now_us,
            )
            report.retrying += 1
