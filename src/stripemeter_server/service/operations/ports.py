"""Operations: the audit log, rate-limit buckets, worker heartbeats, gauges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from stripemeter_server.domain.queries import AuditFilter

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
    from stripemeter_server.service.dashboard.ports import DashboardSessionsRepository
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
    from stripemeter_server.service.portal.ports import PortalRepository
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


@dataclass(frozen=True, slots=True)
class AuditRecord:
    audit_id: str
    created_us: int
    actor: str
    action: str
    target_type: str
    target_id: str
    before: str | None
    after: str | None
    request_id: str | None


@dataclass(frozen=True, slots=True)
class BucketRow:
    rate_per_second: float | None
    burst: float | None
    tokens: float
    updated_us: int
    now_us: int  # the database's clock on PostgreSQL (one clock for every node)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    worker_id: str
    loop: str
    host: str
    pid: int
    started_us: int
    beat_us: int


class AuditRepository(Protocol):
    def add(self, tenant_id: str, record: AuditRecord) -> None: ...

    def page(
        self, where: AuditFilter, *, before: tuple[int, str] | None, limit: int
    ) -> list[AuditRecord]: ...


class RateLimitRepository(Protocol):
    def of(self, tenant_id: str) -> RateLimitRepository: ...

    def settings(self) -> tuple[float | None, float | None]: ...

    def configure(self, rate: float | None, burst: float | None) -> None: ...

    def lock(self, initial_tokens: float) -> BucketRow: ...

    def store(self, tokens: float, at_us: int) -> None: ...


class HeartbeatRepository(Protocol):
    def beat(self, beat: Heartbeat) -> None: ...

    def latest(self) -> dict[str, int]: ...

    def all(self) -> Sequence[Heartbeat]: ...


class GaugesRepository(Protocol):
    def open_periods(self, now_us: int) -> int: ...


class AuditUnitOfWork(Protocol):
    """What writing and reading the audit log needs: every feature's writes call it."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def audit(self) -> AuditRepository: ...


class OperationsUnitOfWork(Protocol):
    """One transaction as the operations use cases see it (ADR 0026)."""

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
