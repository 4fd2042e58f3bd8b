"""Running recorded Stripe webhook events as durable jobs.

A job is claimed through the database: the claim moves ``next_attempt_us`` one lease ahead
in a committed transaction, so the in-process run right after the webhook's commit and any
number of ``stripemeter worker`` loops never work on the same job at once. A process that
dies mid-job leaves the lease to expire; the next claim resumes from the recorded intents
(``service/invoice_billing.py``). Retryable failures (Stripe 5xx/429/timeouts, database
contention) reschedule with backoff; refusals end the job ``failed`` with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from stripemeter_server.domain.errors import (
    RetryableConflict,
    StripemeterError,
    StripeRetryableError,
    UnavailableError,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.invoicing.billing import Outcome, bill_invoice
from stripemeter_server.service.invoicing.invoice_fields import invoice_fields
from stripemeter_server.service.invoicing.ports import (
    JOB_DONE,
    JOB_FAILED,
    JOB_IGNORED,
    JOB_PENDING,
    WebhookJob,
)
from stripemeter_server.service.invoicing.webhooks import (
    INVOICE_CREATED,
    INVOICE_FINALIZED,
    event_payload,
)
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.tenant_rounds import TenantRounds, all_tenants

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobPolicy:
    lease: timedelta = timedelta(minutes=2)
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(hours=1)
    max_attempts: int = 25  # ~a day of capped retries, then ``failed`` (still listed)
    batch: int = 20

    def retry_delay(self, attempt: int) -> timedelta:
        """30 s, 1 min, 2 min, ... capped at an hour (``attempt`` counts from 1)."""
        delay: timedelta = min(self.first_retry * (2 ** min(attempt - 1, 20)), self.max_retry)
        return delay


DEFAULT_POLICY = JobPolicy()


def claim(
    ctx: ServiceContext, tenant_id: str, event_id: str, policy: JobPolicy = DEFAULT_POLICY
) -> WebhookJob | None:
    """Lease one job if it is due and nobody holds it."""
    now_us = to_micros(ctx.clock.now())
    with ctx.store.unit_of_work(tenant_id) as uow:
        job = uow.webhook_jobs.claim(event_id, now_us, _micros(policy.lease))
        uow.commit()
    return job


def claim_due(
    ctx: ServiceContext,
    policy: JobPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
    rounds: TenantRounds | None = None,
) -> list[WebhookJob]:
    """Lease the due jobs of every tenant (the worker loop's pass), one tenant's claim per
    transaction."""
    now_us = to_micros(now or ctx.clock.now())
    lease_us = _micros(policy.lease)
    return (rounds or TenantRounds()).claim(
        all_tenants(ctx.store),
        policy.batch,
        lambda tenant, most: run_use_case(
            ctx.store, tenant, lambda uow: uow.webhook_jobs.claim_due(now_us, lease_us, most)
        ),
    )


def run_job(ctx: ServiceContext, job: WebhookJob, policy: JobPolicy = DEFAULT_POLICY) -> str:
    """Work one claimed job to its next state; returns that state.

    Anything unexpected propagates and leaves the lease to expire, exactly like a crash:
    the retry resumes from what was committed.
    """
    if job.attempts > policy.max_attempts:
        _finish(
            ctx,
            job,
            Outcome(JOB_FAILED, f"gave up after {policy.max_attempts} attempts: {job.error}"),
        )
        return JOB_FAILED
    try:
        outcome = _handle(ctx, job)
    except (StripeRetryableError, RetryableConflict, UnavailableError) as exc:
        _reschedule(ctx, job, policy, exc.message)
        return JOB_PENDING
    except StripemeterError as exc:  # refused for good: bad event, no account, Stripe said no
        outcome = Outcome(JOB_FAILED, exc.message)
    _finish(ctx, job, outcome)
    return outcome.status


def process_received(ctx: ServiceContext, tenant_id: str, event_id: str) -> None:
    """Run a just-recorded job now (the webhook route's after-commit task). Never raises:
    whatever goes wrong, the job stays recorded and the worker loop retries it."""
    try:
        job = claim(ctx, tenant_id, event_id)
        if job is not None:
            run_job(ctx, job)
    except Exception:
        log.exception(
            "Stripe webhook job %s (tenant %s) did not complete; the worker will retry it",
            event_id,
            tenant_id,
        )


def _handle(ctx: ServiceContext, job: WebhookJob) -> Outcome:
    event = event_payload(job)
    data = event.get("data")
    invoice = data.get("object") if isinstance(data, dict) else None
    if job.event_type == INVOICE_CREATED:
        outcome = bill_invoice(ctx, job.tenant_id, job.event_id, invoice)
        if outcome.status != JOB_IGNORED:  # the usage items are in place: the invoice gate
            from stripemeter_server.service.reconciliation.schedule import gate_after_billing

            gate_after_billing(ctx, job.tenant_id, invoice)
        return outcome
    if job.event_type == INVOICE_FINALIZED:
        return _record_final(ctx, job, invoice)
    return Outcome(JOB_IGNORED, f"event type {job.event_type} is not handled")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _record_final(ctx: ServiceContext, job: WebhookJob, invoice: object) -> Outcome:
    """``invoice.finalized``: the number and amounts Stripe finalized, against the invoice
    the flow billed (and through its items, against each locked period)."""
    fields = invoice_fields(invoice)
    assert isinstance(invoice, dict)
    transitions = invoice.get("status_transitions") or {}
    finalized_at = _int(transitions.get("finalized_at")) if isinstance(transitions, dict) else None
    now_us = to_micros(ctx.clock.now())
    with ctx.store.unit_of_work(job.tenant_id) as uow:
        known = uow.stripe_invoices.get(fields.invoice_id)
        if known is None:
            return Outcome(JOB_IGNORED, "not an invoice stripemeter added usage to")
        number = invoice.get("number")
        uow.stripe_invoices.put(
            replace(
                known,
                number=number if isinstance(number, str) else None,
                status=fields.status,
                currency=fields.currency,
                subtotal=_int(invoice.get("subtotal")),
                total=_int(invoice.get("total")),
                amount_due=_int(invoice.get("amount_due")),
                finalized_us=None if finalized_at is None else finalized_at * 1_000_000,
                updated_us=now_us,
            )
        )
        uow.commit()
    return Outcome(JOB_DONE, f"finalized as {number}" if isinstance(number, str) else None)


def _finish(ctx: ServiceContext, job: WebhookJob, outcome: Outcome) -> None:
    with ctx.store.unit_of_work(job.tenant_id) as uow:
        uow.webhook_jobs.finish(
            job.event_id, outcome.status, outcome.note, to_micros(ctx.clock.now())
        )
        uow.commit()


def _reschedule(ctx: ServiceContext, job: WebhookJob, policy: JobPolicy, why: str) -> None:
    now = ctx.clock.now()
    at = now + policy.retry_delay(job.attempts)
    log.warning("Stripe webhook job %s: %s; retrying at %s", job.event_id, why, at.isoformat())
    with ctx.store.unit_of_work(job.tenant_id) as uow:
        uow.webhook_jobs.retry_at(job.event_id, to_micros(at), why[:1000], to_micros(now))
        uow.commit()


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


__all__ = ["DEFAULT_POLICY", "JobPolicy", "claim", "claim_due", "process_received", "run_job"]
