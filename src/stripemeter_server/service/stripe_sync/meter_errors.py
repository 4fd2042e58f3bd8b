"""Consuming Stripe's asynchronous meter error reports, so no refused usage goes unnoticed.

Stripe answers 200 to a meter event for an unknown customer or meter and reports the refusal
later (``v1.billing.meter.error_report_triggered``, ``v1.billing.meter.no_meter_found``).
The push worker polls those reports (ADR 0120) and parks every push a report names by its
identifier (the push id) as ``failed`` with Stripe's code — the same state as a refusal at
send time, so ``/health/ready`` turns ``degraded``, ``stripemeter_push_failed`` counts it,
``StripemeterPushesParked`` fires and ``POST /v1/pushes/{id}/retry`` resends it.

Each report is recorded once per tenant in the Stripe event log (``webhook_jobs``, shown by
``GET /v1/stripe/webhook-events``), which is what makes polling idempotent across passes,
workers and restarts. Errors a report counts but does not name (Stripe samples them) cannot
be tied to a push: they are logged at ERROR and noted on the recorded event, and
reconciliation finds the usage missing in Stripe.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.invoicing.ports import JOB_DONE, JOB_FAILED, WebhookJob
from stripemeter_server.service.ports.stripe import MeterErrorReport, MeterErrorSample
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.accounts import tenants_with_stripe
from stripemeter_server.service.stripe_sync.ports.pushes import PENDING, SENT, PushRow
from stripemeter_server.service.stripe_sync.targets import UNKNOWN_CUSTOMER_CODES

log = logging.getLogger(__name__)

MAX_SAMPLES_KEPT = 20  # in the recorded payload; every named push is parked regardless


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    parked: tuple[str, ...] = ()
    unnamed: int = 0  # counted by the report, not named in its sample
    deferred: bool = False  # a named push is still being sent: read the report again later


def _payload(report: MeterErrorReport) -> str:
    return json.dumps(
        {
            "id": report.event_id,
            "type": report.event_type,
            "created": report.created,
            "meter": report.meter_id,
            "errorCount": report.error_count,
            "samples": [
                {"code": s.code, "message": s.message, "identifier": s.identifier}
                for s in report.samples[:MAX_SAMPLES_KEPT]
            ],
        }
    )


def _summary(outcome: ReportOutcome, others: int) -> str | None:
    parts = []
    if outcome.parked:
        parts.append(
            f"parked {len(outcome.parked)} push(es) as failed: "
            + ", ".join(outcome.parked[:MAX_SAMPLES_KEPT])
        )
    if others:
        parts.append(
            f"{others} named meter event(s) were resent after a fresh customer "
            "lookup, or are no sent push of this tenant"
        )
    if outcome.unnamed:
        parts.append(
            f"{outcome.unnamed} refused meter event(s) are not named by Stripe "
            "(run reconciliation to find the usage missing in Stripe)"
        )
    return "; ".join(parts) or None


def _in_flight(uow: UnitOfWork, report: MeterErrorReport) -> bool:
    """A named push not yet recorded as sent (its send may still be committing)."""
    for sample in report.samples:
        row = None if sample.identifier is None else uow.pushes.get(sample.identifier)
        if row is not None and row.status == PENDING:
            return True
    return False


def _looked_up(uow: UnitOfWork, row: PushRow, code: str) -> bool:
    """Whether the push went to a Stripe customer found by lookup (the cache), not named
    by the tenant — and this is the first such refusal: then a fresh lookup may fix it, as
    a synchronous refusal makes the sender look up again."""
    if (
        code not in UNKNOWN_CUSTOMER_CODES
        or row.last_error_code == code
        or row.customer_ref.startswith("cus_")
    ):
        return False
    record = uow.customers.get(row.customer_ref)
    if record is not None and record.stripe_customer_id:
        return False
    return uow.stripe_customers.get(row.customer_ref) == row.stripe_customer_id


def _reject(uow: UnitOfWork, sample: MeterErrorSample, now_us: int) -> bool:
    """Park the sent push a sample names (True), or send it again after a fresh customer
    lookup (False, as it is not parked); False when it is no sent push of this tenant."""
    assert sample.identifier is not None
    row = uow.pushes.get(sample.identifier)
    if row is None or row.status != SENT:
        return False
    error = f"Stripe refused the meter event after accepting it ({sample.code}): {sample.message}"
    if _looked_up(uow, row, sample.code):
        uow.stripe_customers.forget(row.customer_ref)
        uow.pushes.reject_sent(
            row.push_id, error=error, code=sample.code, now_us=now_us, look_up_again=True
        )
        log.warning(
            "Stripe refused push %s (tenant %s) for customer %s found by lookup "
            "(%s); looking the customer up again and resending",
            row.push_id,
            uow.tenant_id,
            row.stripe_customer_id,
            sample.code,
        )
        return False
    uow.pushes.reject_sent(row.push_id, error=error, code=sample.code, now_us=now_us)
    # Loud by design, as at send time: this usage is not billed until acted on.
    log.error(
        "Stripe reported push %s (tenant %s) refused after accepting it (%s): %s; "
        "parked as failed, retry with POST /v1/pushes/%s/retry once fixed",
        row.push_id,
        uow.tenant_id,
        sample.code,
        sample.message,
        row.push_id,
    )
    return True


def record_report(uow: UnitOfWork, report: MeterErrorReport, now: datetime) -> ReportOutcome:
    """Record one report (once: a report already recorded changes nothing) and park the
    pushes it names that are ``sent``. A report naming a push still ``pending`` (in flight)
    is left for the next poll, so its refusal cannot be overtaken by the send's result."""
    now_us = to_micros(now)
    if uow.webhook_jobs.get(report.event_id) is not None:
        return ReportOutcome()
    if _in_flight(uow, report):
        return ReportOutcome(deferred=True)
    if not uow.webhook_jobs.add(
        WebhookJob(
            tenant_id=uow.tenant_id,
            event_id=report.event_id,
            event_type=report.event_type,
            object_id=report.meter_id,
            payload=_payload(report),
            status=JOB_DONE,
            attempts=1,
            error=None,
            received_us=now_us,
            next_attempt_us=now_us,
            processed_us=now_us,
            updated_us=now_us,
        )
    ):
        return ReportOutcome()  # another worker recorded it first
    parked = [
        s.identifier for s in report.samples if s.identifier is not None and _reject(uow, s, now_us)
    ]
    named = sum(1 for s in report.samples if s.identifier is not None)
    outcome = ReportOutcome(tuple(parked), max(report.error_count - named, 0))
    if outcome.unnamed:
        log.error(
            "Stripe meter error report %s (tenant %s) counts %d refused meter event(s) "
            "it does not name",
            report.event_id,
            uow.tenant_id,
            outcome.unnamed,
        )
    uow.webhook_jobs.finish(
        report.event_id,
        JOB_FAILED if outcome.unnamed else JOB_DONE,
        _summary(outcome, named - len(parked)),
        now_us,
    )
    return outcome


def _when(created: str) -> datetime | None:
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return None


def _stamps(reports: list[MeterErrorReport]) -> list[tuple[datetime, str]]:
    return [(w, r.created) for r in reports if (w := _when(r.created)) is not None]


def _newest(reports: list[MeterErrorReport], current: str | None) -> str | None:
    stamps = _stamps(reports)
    return max(stamps)[1] if stamps else current


def _oldest(reports: list[MeterErrorReport]) -> str | None:
    stamps = _stamps(reports)
    return min(stamps)[1] if stamps else None


@dataclass
class MeterErrorPoller:
    """Polls each tenant's account for reports every ``interval_s`` (the first poll of a
    process reads every report Stripe retains; later ones from the newest seen on)."""

    ctx: ServiceContext
    interval_s: float = 30.0
    _cursors: dict[str, str | None] = field(default_factory=dict)
    _last_us: int | None = None

    def poll(self, now: datetime, *, force: bool = False) -> int:
        """Poll if due (or ``force``); the number of pushes parked."""
        now_us = to_micros(now)
        if (
            not force
            and self._last_us is not None
            and now_us - self._last_us < self.interval_s * MICROS
        ):
            return 0
        self._last_us = now_us
        tenants = tenants_with_stripe(self.ctx.store, self.ctx.stripe.environment)
        return sum(self._poll_tenant(tenant, now) for tenant in tenants)

    def _poll_tenant(self, tenant: str, now: datetime) -> int:
        try:
            with self.ctx.store.unit_of_work(tenant, read_only=True) as uow:
                credentials = self.ctx.stripe.credentials(uow)
            if credentials is None:
                return 0
            reports = self.ctx.stripe.port(credentials).meter_error_reports(
                self._cursors.get(tenant)
            )
            parked, deferred = 0, []
            for report in reports:
                outcome = run_use_case(
                    self.ctx.store, tenant, partial(record_report, report=report, now=now)
                )
                parked += len(outcome.parked)
                if outcome.deferred:
                    deferred.append(report)
        except StripemeterError as exc:  # Stripe or the store briefly away: next poll
            log.warning(
                "reading Stripe's meter error reports for tenant %s failed: %s", tenant, exc.message
            )
            return 0
        # The next poll starts at the oldest deferred report, else the newest seen.
        self._cursors[tenant] = (
            _oldest(deferred) if deferred else _newest(reports, self._cursors.get(tenant))
        )
        return parked
