"""The invoice webhook flow: durable jobs, invoice items, Stripe invoices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.alerts.ports import AlertsRepository
    from stripemeter_server.service.catalog.ports.definitions import (
        CustomersRepository,
        MetricsRepository,
        TenantsRepository,
    )
    from stripemeter_server.service.catalog.ports.prices import PricesRepository
    from stripemeter_server.service.corrections.ports.adjustments import (
        AdjustmentsRepository,
        PeriodClosesRepository,
    )
    from stripemeter_server.service.corrections.ports.backfills import (
        ApprovalsRepository,
        BackfillsRepository,
    )
    from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobsRepository
    from stripemeter_server.service.credits.ports import CreditGrantsRepository
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.operations.ports import AuditRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository
    from stripemeter_server.service.ports.events import EventsRepository
    from stripemeter_server.service.stripe_sync.ports.accounts import (
        MappingsRepository,
        StripeAccountsRepository,
        StripeCustomersRepository,
    )
    from stripemeter_server.service.stripe_sync.ports.pushes import PushesRepository
    from stripemeter_server.service.stripe_sync.ports.subscription_items import (
        SubscriptionItemsRepository,
    )


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


class InvoicingUnitOfWork(Protocol):
    """One transaction as the invoicing use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def features(self) -> FeatureReads: ...
    @property
    def billing_reads(self) -> BillingReads: ...
    @property
    def grants(self) -> GrantReads: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def approvals(self) -> ApprovalsRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def backfills(self) -> BackfillsRepository: ...
    @property
    def counters(self) -> CountersRepository: ...
    @property
    def credit_grants(self) -> CreditGrantsRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def events(self) -> EventsRepository: ...
    @property
    def ingest_tallies(self) -> PrunableTallies: ...
    @property
    def invoice_items(self) -> InvoiceItemsRepository: ...
    @property
    def mappings(self) -> MappingsRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def pushes(self) -> PushesRepository: ...
    @property
    def rebuild_jobs(self) -> RebuildJobsRepository: ...
    @property
    def stripe_accounts(self) -> StripeAccountsRepository: ...
    @property
    def stripe_customers(self) -> StripeCustomersRepository: ...
    @property
    def stripe_invoices(self) -> StripeInvoicesRepository: ...
    @property
    def subscription_items(self) -> SubscriptionItemsRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...
    @property
    def webhook_jobs(self) -> WebhookJobsRepository: ...

    def commit(self) -> None: ...
