"""In-memory repositories of the invoice webhook flow: webhook events as durable jobs,
invoice items per (metric, customer, period), Stripe invoices (ADR 0026).

Each mirrors its SQL counterpart in ``storage/invoicing.py``: ``add`` stores a job or an
item intent once (False when its key is taken); ``claim`` and ``claim_due`` lease due
pending jobs by moving ``next_attempt_us`` on and counting the attempt; ``settle`` moves
only a pending item; an invoice ``put`` keeps the row's identity and creation time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from stripemeter_server.service.invoicing.ports import (
    ITEM_PENDING,
    JOB_PENDING,
    InvoiceItemRecord,
    StripeInvoiceRecord,
    WebhookJob,
)

ItemKey = tuple[str, str, int]  # (metric, customer_ref, period_start_us)


@dataclass
class InvoicingTables:
    """One tenant's invoice-flow rows."""

    jobs: dict[str, WebhookJob] = field(default_factory=dict)
    items: dict[ItemKey, InvoiceItemRecord] = field(default_factory=dict)
    invoices: dict[str, StripeInvoiceRecord] = field(default_factory=dict)


class FakeWebhookJobs:
    def __init__(self, tables: InvoicingTables) -> None:
        self._t = tables

    def add(self, job: WebhookJob) -> bool:
        if job.event_id in self._t.jobs:
            return False  # Stripe's event id was already recorded
        self._t.jobs[job.event_id] = job
        return True

    def get(self, event_id: str) -> WebhookJob | None:
        return self._t.jobs.get(event_id)

    def _lease(self, job: WebhookJob, now_us: int, lease_us: int) -> WebhookJob:
        leased = replace(
            job, next_attempt_us=now_us + lease_us, attempts=job.attempts + 1, updated_us=now_us
        )
        self._t.jobs[job.event_id] = leased
        return leased

    @staticmethod
    def _due(job: WebhookJob, now_us: int) -> bool:
        return job.status == JOB_PENDING and job.next_attempt_us <= now_us

    def claim(self, event_id: str, now_us: int, lease_us: int) -> WebhookJob | None:
        job = self._t.jobs.get(event_id)
        if job is None or not self._due(job, now_us):
            return None
        return self._lease(job, now_us, lease_us)

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[WebhookJob]:
        due = sorted(
            (j for j in self._t.jobs.values() if self._due(j, now_us)),
            key=lambda j: (j.next_attempt_us, j.event_id),
        )[:limit]
        # As the adapter: the returned job is the leased one, except its ``updated_us``.
        return [replace(self._lease(j, now_us, lease_us), updated_us=j.updated_us) for j in due]

    def finish(self, event_id: str, status: str, error: str | None, now_us: int) -> None:
        job = self._t.jobs.get(event_id)
        if job is not None:
            self._t.jobs[event_id] = replace(
                job, status=status, error=error, processed_us=now_us, updated_us=now_us
            )

    def retry_at(self, event_id: str, at_us: int, error: str, now_us: int) -> None:
        job = self._t.jobs.get(event_id)
        if job is not None:
            self._t.jobs[event_id] = replace(
                job, next_attempt_us=at_us, error=error, updated_us=now_us
            )

    def page(
        self, *, status: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[WebhookJob]:
        jobs = [
            j
            for j in self._t.jobs.values()
            if (status is None or j.status == status)
            and (before is None or (j.received_us, j.event_id) < before)
        ]
        return sorted(jobs, key=lambda j: (j.received_us, j.event_id), reverse=True)[:limit]


class FakeInvoiceItems:
    def __init__(self, tables: InvoicingTables) -> None:
        self._t = tables

    def get(self, metric: str, customer_ref: str, period_start_us: int) -> InvoiceItemRecord | None:
        return self._t.items.get((metric, customer_ref, period_start_us))

    def add(self, record: InvoiceItemRecord) -> bool:
        key = (record.metric, record.customer_ref, record.period_start_us)
        if key in self._t.items:
            return False  # the period was already billed
        self._t.items[key] = record
        return True

    def settle(
        self,
        record: InvoiceItemRecord,
        *,
        status: str,
        now_us: int,
        stripe_item_id: str | None = None,
        amount: int | None = None,
        error: str | None = None,
    ) -> None:
        key = (record.metric, record.customer_ref, record.period_start_us)
        kept = self._t.items.get(key)
        if kept is None or kept.status != ITEM_PENDING:
            return  # a replay is a no-op
        self._t.items[key] = replace(
            kept,
            status=status,
            error=error,
            updated_us=now_us,
            stripe_item_id=kept.stripe_item_id if stripe_item_id is None else stripe_item_id,
            amount=kept.amount if amount is None else amount,
        )

    def for_invoices(self, invoice_ids: Sequence[str]) -> list[InvoiceItemRecord]:
        wanted = set(invoice_ids)
        return sorted(
            (i for i in self._t.items.values() if i.invoice_id in wanted),
            key=lambda i: (i.invoice_id, i.metric),
        )


class FakeStripeInvoices:
    def __init__(self, tables: InvoicingTables) -> None:
        self._t = tables

    def get(self, invoice_id: str) -> StripeInvoiceRecord | None:
        return self._t.invoices.get(invoice_id)

    def put(self, record: StripeInvoiceRecord) -> None:
        kept = self._t.invoices.get(record.invoice_id)
        if kept is not None:  # what Stripe says now; the identity and creation stay
            record = replace(
                kept,
                **{
                    name: getattr(record, name)
                    for name in (
                        "currency",
                        "number",
                        "status",
                        "subtotal",
                        "total",
                        "amount_due",
                        "finalized_us",
                        "updated_us",
                    )
                },
            )
        self._t.invoices[record.invoice_id] = record

    def page(
        self,
        *,
        status: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[StripeInvoiceRecord]:
        found = [
            i
            for i in self._t.invoices.values()
            if (status is None or i.status == status)
            and (customer_ref is None or i.customer_ref == customer_ref)
            and (before is None or (i.created_us, i.invoice_id) < before)
        ]
        return sorted(found, key=lambda i: (i.created_us, i.invoice_id), reverse=True)[:limit]
