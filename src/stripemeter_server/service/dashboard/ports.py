"""The operator dashboard's own reads: their records and the repository port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.alerts.ports import AlertsRepository
    from stripemeter_server.service.catalog.ports.definitions import (
        ApiKeysRepository,
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
    from stripemeter_server.service.entitlements.ports import (
        FeaturesRepository,
        GrantsRepository,
        ReservationsRepository,
    )
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.invoicing.ports import (
        InvoiceItemsRepository,
        StripeInvoicesRepository,
        WebhookJobsRepository,
    )
    from stripemeter_server.service.operations.ports import (
        AuditRepository,
        GaugesRepository,
        HeartbeatRepository,
        RateLimitRepository,
    )
    from stripemeter_server.service.portal.ports import PortalRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository
    from stripemeter_server.service.ports.events import EventsRepository, StoredEvent
    from stripemeter_server.service.reconciliation.ports import ReconciliationRepository
    from stripemeter_server.service.stripe_sync.ports.accounts import (
        MappingsRepository,
        StripeAccountsRepository,
        StripeCustomersRepository,
    )
    from stripemeter_server.service.stripe_sync.ports.pushes import PushesRepository
    from stripemeter_server.service.stripe_sync.ports.subscription_items import (
        SubscriptionItemsRepository,
    )


@dataclass(frozen=True)
class ClosingPeriod:
    metric: str
    period_start_us: int
    period_end_us: int
    customers: int


@dataclass(frozen=True)
class TenantPushStats:
    pending: int
    failed: int
    oldest_pending_us: int | None


class DashboardReads(Protocol):
    """Bounded reads for large tenants: keyset pages, grouped counts."""

    def customer_refs(self, *, prefix: str, after: str | None, limit: int) -> list[str]: ...

    def customer_known(self, customer_ref: str) -> bool: ...

    def events_newest_first(
        self, *, metric: str | None, customer_ref: str | None, before_seq: int | None, limit: int
    ) -> list[StoredEvent]: ...

    def periods_closing(self, now_us: int, until_us: int, limit: int) -> list[ClosingPeriod]: ...

    def push_stats(self) -> TenantPushStats: ...


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A dashboard session as stored: never the cookie's token, only its digest."""

    tenant_id: str
    session_id: str
    key_id: str
    csrf_secret: str
    created_us: int
    expires_us: int


@dataclass(frozen=True, slots=True)
class SessionWithKey:
    """A session and the state of its key, read together (one query per page)."""

    session: SessionRecord
    scopes: frozenset[str]
    key_revoked_us: int | None
    key_expires_us: int | None


class DashboardSessionsRepository(Protocol):
    """Sessions of every tenant: a page learns its tenant from the session it finds."""

    def add(self, record: SessionRecord) -> None: ...

    def find(self, session_id: str) -> SessionWithKey | None: ...

    def delete(self, session_id: str) -> bool: ...

    def delete_for_key(self, tenant_id: str, key_id: str) -> int: ...

    def delete_expired(self, now_us: int, limit: int) -> int: ...


class DashboardUnitOfWork(Protocol):
    """One transaction as the dashboard use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def billing_reads(self) -> BillingReads: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def api_keys(self) -> ApiKeysRepository: ...
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
    def dashboard(self) -> DashboardReads: ...
    @property
    def dashboard_sessions(self) -> DashboardSessionsRepository: ...
    @property
    def events(self) -> EventsRepository: ...
    @property
    def features(self) -> FeaturesRepository: ...
    @property
    def gauges(self) -> GaugesRepository: ...
    @property
    def grants(self) -> GrantsRepository: ...
    @property
    def heartbeats(self) -> HeartbeatRepository: ...
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
    def portal(self) -> PortalRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def pushes(self) -> PushesRepository: ...
    @property
    def rate_limits(self) -> RateLimitRepository: ...
    @property
    def rebuild_jobs(self) -> RebuildJobsRepository: ...
    @property
    def reconciliation(self) -> ReconciliationRepository: ...
    @property
    def reservations(self) -> ReservationsRepository: ...
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
