"""The invoice flow on the wire: the webhook's acknowledgement, the received events and the
invoices billed with their items; answers rendered here from their records. The webhook's
body is Stripe's event, verified over its exact bytes, so it reaches the use case raw."""

from __future__ import annotations

from typing import Any

from stripemeter_server.api.wire import (
    UNSET,
    DecimalText,
    Instant,
    StrictBody,
    Unset,
    render,
    response,
)
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.invoicing import webhooks
from stripemeter_server.service.invoicing.ports import (
    JOB_PENDING,
    InvoiceItemRecord,
    StripeInvoiceRecord,
    WebhookJob,
)


class WebhookReceived(StrictBody):
    received: bool
    event_id: str
    type: str
    status: str
    duplicate: bool


class Job(StrictBody):
    """A received event and where its processing stands."""

    event_id: str
    type: str
    object_id: str | None
    status: str
    attempts: int
    error: str | None
    received_at: Instant | None
    processed_at: Instant | None
    next_attempt_at: Instant | None


class JobPage(StrictBody):
    data: list[Job]
    has_more: bool
    next_cursor: str | None


class InvoiceItem(StrictBody):
    """One usage line the flow put on an invoice (amounts in the currency's minor unit)."""

    metric: str
    customer_ref: str
    period_start: Instant | None
    period_end: Instant | None
    invoice_id: str
    status: str
    pricing: str
    quantity: DecimalText
    amount: int | None
    currency: str | None
    idempotency_key: str
    stripe_item_id: str | None
    event_id: str
    error: str | None


class Invoice(StrictBody):
    invoice_id: str
    customer_ref: str
    stripe_customer_id: str
    status: str
    number: str | None
    currency: str | None
    subtotal: int | None
    total: int | None
    amount_due: int | None
    period_start: Instant | None
    period_end: Instant | None
    finalized_at: Instant | None
    created_at: Instant | None
    items: list[InvoiceItem]


class InvoicePage(StrictBody):
    data: list[Invoice]
    has_more: bool
    next_cursor: str | None


RECEIVED_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(WebhookReceived, "Recorded (or a duplicate of a recorded event)")
}
JOBS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(JobPage, "Received events, newest first")
}
INVOICES_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(InvoicePage, "Invoices, newest first, with their items")
}


def _when(us: int | None) -> str | None:
    return None if us is None else format_timestamp(from_micros(us))


def received_view(received: webhooks.Received) -> dict[str, Any]:
    return render(
        WebhookReceived(
            received=True,
            event_id=received.event_id,
            type=received.event_type,
            status=received.status,
            duplicate=received.duplicate,
        )
    )


def _job(job: WebhookJob) -> Job:
    return Job(
        event_id=job.event_id,
        type=job.event_type,
        object_id=job.object_id,
        status=job.status,
        attempts=job.attempts,
        error=job.error,
        received_at=_when(job.received_us),
        processed_at=_when(job.processed_us),
        next_attempt_at=_when(job.next_attempt_us) if job.status == JOB_PENDING else None,
    )


def job_page(page: webhooks.JobPage) -> dict[str, Any]:
    return render(
        JobPage(
            data=[_job(j) for j in page.jobs], has_more=page.has_more, next_cursor=page.next_cursor
        )
    )


def _item(item: InvoiceItemRecord) -> InvoiceItem:
    return InvoiceItem(
        metric=item.metric,
        customer_ref=item.customer_ref,
        period_start=_when(item.period_start_us),
        period_end=_when(item.period_end_us),
        invoice_id=item.invoice_id,
        status=item.status,
        pricing=item.pricing,
        quantity=str(item.quantity),
        amount=item.amount,
        currency=item.currency,
        idempotency_key=item.idempotency_key,
        stripe_item_id=item.stripe_item_id,
        event_id=item.event_id,
        error=item.error,
    )


def _invoice(invoice: StripeInvoiceRecord, items: list[InvoiceItemRecord]) -> Invoice:
    return Invoice(
        invoice_id=invoice.invoice_id,
        customer_ref=invoice.customer_ref,
        stripe_customer_id=invoice.stripe_customer_id,
        status=invoice.status,
        number=invoice.number,
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        total=invoice.total,
        amount_due=invoice.amount_due,
        period_start=_when(invoice.period_start_us),
        period_end=_when(invoice.period_end_us),
        finalized_at=_when(invoice.finalized_us),
        created_at=_when(invoice.created_us),
        items=[_item(i) for i in items],
    )


def invoice_page(page: webhooks.InvoicePage) -> dict[str, Any]:
    return render(
        InvoicePage(
            data=[_invoice(i, page.items.get(i.invoice_id, [])) for i in page.invoices],
            has_more=page.has_more,
            next_cursor=page.next_cursor,
        )
    )


class Tier(StrictBody):
    description: str | None
    quantity: DecimalText | None
    unit_amount: DecimalText | None
    amount: DecimalText | None


class UpcomingLine(StrictBody):
    metric: str
    period_start: Instant | None
    period_end: Instant | None
    quantity: DecimalText | None
    pricing: str | None
    stripe_price: str | None
    currency: str | None
    amount: DecimalText | None
    tiers: list[Tier]


class Total(StrictBody):
    currency: str | None
    subtotal: DecimalText | None
    credits: DecimalText | None
    total: DecimalText | None


class LineDifference(StrictBody):
    """One line of Stripe's preview against ours; a difference is Stripe's minus ours."""

    metric: str | None
    stripe_price: str | None
    status: str
    currency: str | None
    description: str | None
    quantity: DecimalText | None
    stripe_quantity: DecimalText | None
    quantity_difference: DecimalText | None
    amount: DecimalText | None
    stripe_amount: DecimalText | None
    amount_difference: DecimalText | None


class StripePreview(StrictBody):
    """Stripe's own preview (amounts in the currency's major unit), when it could be read."""

    status: str
    error: str | None
    subscription: str | None
    currency: str | None
    subtotal: DecimalText | None
    total: DecimalText | None
    lines: list[LineDifference]


class UpcomingInvoice(StrictBody):
    customer_ref: str
    at: Instant | None
    as_of: Instant | None
    period_start: Instant | None
    period_end: Instant | None
    lines: list[UpcomingLine]
    totals: list[Total]
    stripe: StripePreview | Unset = UNSET


UPCOMING_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(UpcomingInvoice, "The preview (and Stripe's, when it can be compared)")
}
