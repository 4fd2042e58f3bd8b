"""Receiving Stripe webhooks: verify, record as a durable job, answer at once.

The request does only what must happen before Stripe gets its 200: check the signature
with the tenant's webhook secret (through the library, in the adapter) and record the event
in the same transaction, deduplicated by Stripe's event id. The work itself runs later
(``service/invoice_flow.py``), so a slow Stripe or a crash never costs an acknowledged event.
Also here: the operators' read views (jobs, and invoices with their items), returned typed
and rendered in ``api/schemas/invoicing.py``. The body is Stripe's event: verified over its
exact bytes, so it is parsed here, not at the edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.domain.bounded import unsafe_reason
from stripemeter_server.domain.errors import (
    ValidationError,
    WebhookEventError,
    WebhookSignatureError,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.context import StripeAccess
from stripemeter_server.service.invoicing.ports import (
    JOB_IGNORED,
    JOB_PENDING,
    InvoiceItemRecord,
    StripeInvoiceRecord,
    WebhookJob,
)
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork as UnitOfWork

INVOICE_CREATED = "invoice.created"
INVOICE_FINALIZED = "invoice.finalized"
HANDLED_TYPES = frozenset({INVOICE_CREATED, INVOICE_FINALIZED})
MAX_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Received:
    event_id: str
    event_type: str
    status: str
    duplicate: bool

    @property
    def needs_processing(self) -> bool:
        return not self.duplicate and self.status == JOB_PENDING


def _text(value: object, name: str) -> str:
    """The event's ``id`` or ``type``: stored, so storable on every store (no NUL, no
    unpaired surrogate) — else 400 naming the field, the same on both stores."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise WebhookEventError(
            f"the event's {name} must be a string of at most {MAX_ID_LENGTH} characters", field=name
        )
    reason = unsafe_reason(value)
    if reason is not None:
        raise WebhookEventError(f"the event's {name} {reason}", field=name)
    return value


def _object_id(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    ident = obj.get("id") if isinstance(obj, dict) else None
    return (
        ident
        if isinstance(ident, str) and len(ident) <= MAX_ID_LENGTH and unsafe_reason(ident) is None
        else None
    )


def record_webhook(
    uow: UnitOfWork, access: StripeAccess, body: bytes, signature_header: str | None, now: datetime
) -> Received:
    """Verify and record one delivery. A redelivery (same event id) is acknowledged and
    records nothing; an event type the flow does not handle is recorded as ``ignored``."""
    credentials = access.credentials(uow)
    secrets = access.webhook_secrets(uow, now)
    if credentials is None or not secrets:
        raise WebhookSignatureError(
            "no webhook signing secret is configured for this tenant "
            "(PUT /v1/stripe/account webhookSecret)"
        )
    event = access.port(credentials).verify_webhook(body, signature_header, secrets)
    event_id, event_type = _text(event.get("id"), "id"), _text(event.get("type"), "type")
    handled = event_type in HANDLED_TYPES
    now_us = to_micros(now)
    added = uow.webhook_jobs.add(
        WebhookJob(
            tenant_id=uow.tenant_id,
            event_id=event_id,
            event_type=event_type,
            object_id=_object_id(event),
            payload=body.decode("utf-8"),
            status=JOB_PENDING if handled else JOB_IGNORED,
            attempts=0,
            error=None if handled else f"event type {event_type} is not handled",
            received_us=now_us,
            next_attempt_us=now_us,
            processed_us=None if handled else now_us,
            updated_us=now_us,
        )
    )
    if not added:
        stored = uow.webhook_jobs.get(event_id)
        return Received(event_id, event_type, stored.status if stored else JOB_PENDING, True)
    return Received(event_id, event_type, JOB_PENDING if handled else JOB_IGNORED, False)


# --- operator views ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobPage:
    """Received events, newest first (rendered in ``api/schemas/invoicing.py``)."""

    jobs: list[WebhookJob]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class InvoicePage:
    """Invoices, newest first, and the items of each (by invoice id)."""

    invoices: list[StripeInvoiceRecord]
    items: dict[str, list[InvoiceItemRecord]]
    has_more: bool
    next_cursor: str | None


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    """``{micros}.{id}`` as this API returned it; anything else is a 422 naming the field."""
    if cursor is None:
        return None
    head, _, tail = cursor.partition(".")
    if not head.isdigit() or len(head) > 19 or not tail or len(tail) > MAX_ID_LENGTH:
        raise ValidationError(
            "cursor is not one this API returned", code="invalid_cursor", field="cursor"
        )
    return int(head), tail


def list_jobs(uow: UnitOfWork, *, status: str | None, cursor: str | None, limit: int) -> JobPage:
    page = uow.webhook_jobs.page(status=status, before=decode_cursor(cursor), limit=limit + 1)
    more, page = len(page) > limit, page[:limit]
    last = page[-1] if page else None
    return JobPage(page, more, f"{last.received_us}.{last.event_id}" if more and last else None)


def list_invoices(
    uow: UnitOfWork, *, status: str | None, customer_ref: str | None, cursor: str | None, limit: int
) -> InvoicePage:
    page = uow.stripe_invoices.page(
        status=status, customer_ref=customer_ref, before=decode_cursor(cursor), limit=limit + 1
    )
    more, page = len(page) > limit, page[:limit]
    items: dict[str, list[InvoiceItemRecord]] = {}
    for item in uow.invoice_items.for_invoices([i.invoice_id for i in page]):
        items.setdefault(item.invoice_id, []).append(item)
    last = page[-1] if page else None
    cursor_out = f"{last.created_us}.{last.invoice_id}" if more and last else None
    return InvoicePage(page, items, more, cursor_out)


def event_payload(job: WebhookJob) -> dict[str, Any]:
    """The stored event body (verified when it was received)."""
    event: dict[str, Any] = json.loads(job.payload)
    return event
