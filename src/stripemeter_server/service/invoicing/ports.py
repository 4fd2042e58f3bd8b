"""The invoice webhook flow: durable jobs, invoice items, Stripe invoices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

JOB_PENDING, JOB_DONE, JOB_IGNORED, JOB_FAILED = "pending", "done", "ignored", "failed"


ITEM_PENDING, ITEM_CREATED, ITEM_SKIPPED, ITEM_FAILED = "pending", "created", "skipped", "failed"


@dataclass(frozen=True, slots=True)
class WebhookJob:
    tenant_id: str
    event_id: str
    event_type: str
    object_id: str | None
    payload: str
    status: str
    attempts: int
    error: str | None
    received_us: int
    next_attempt_us: int
    processed_us: int | None
    updated_us: int


@dataclass(frozen=True, slots=True)
class InvoiceItemRecord:
    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    invoice_id: str
    stripe_customer_id: str
    event_id: str
    idempotency_key: str
    pricing: str
    quantity: Decimal
    amount: int | None
    currency: str | None
    request: str | None
    status: str
    stripe_item_id: str | None
    error: str | None
    created_us: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class StripeInvoiceRecord:
    invoice_id: str
    customer_ref: str
    stripe_customer_id: str
    period_start_us: int
    period_end_us: int
    currency: str | None
    number: str | None
    status: str
    subtotal: int | None
    total: int | None
    amount_due: int | None
    finalized_us: int | None
    created_us: int
    updated_us: int


class WebhookJobsRepository(Protocol):
    def add(self, job: WebhookJob) -> bool: ...

    def get(self, event_id: str) -> WebhookJob | None: ...

    def claim(self, event_id: str, now_us: int, lease_us: int) -> WebhookJob | None: ...

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[WebhookJob]: ...

    def finish(self, event_id: str, status: str, error: str | None, now_us: int) -> None: ...

    def retry_at(self, event_id: str, at_us: int, error: str, now_us: int) -> None: ...

    def page(
        self, *, status: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[WebhookJob]: ...


class InvoiceItemsRepository(Protocol):
    def get(
        self, metric: str, customer_ref: str, period_start_us: int
    ) -> InvoiceItemRecord | None: ...

    def add(self, record: InvoiceItemRecord) -> bool: ...

    def settle(
        self,
        record: InvoiceItemRecord,
        *,
        status: str,
        now_us: int,
        stripe_item_id: str | None = None,
        amount: int | None = None,
        error: str | None = None,
    ) -> None: ...

    def for_invoices(self, invoice_ids: Sequence[str]) -> list[InvoiceItemRecord]: ...


class StripeInvoicesRepository(Protocol):
    def get(self, invoice_id: str) -> StripeInvoiceRecord | None: ...

    def put(self, record: StripeInvoiceRecord) -> None: ...

    def page(
        self,
        *,
        status: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[StripeInvoiceRecord]: ...
