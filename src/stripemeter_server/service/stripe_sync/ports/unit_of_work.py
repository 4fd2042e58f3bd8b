"""The stripe sync use cases' unit of work: only the repositories they use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

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
from stripemeter_server.service.corrections.ports.backfills import BackfillsRepository
from stripemeter_server.service.credits.ports import CreditGrantsRepository
from stripemeter_server.service.ingest.ports import PrunableTallies
from stripemeter_server.service.operations.ports import AuditRepository
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

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads


class StripeSyncUnitOfWork(Protocol):
    """One transaction as the stripe sync use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def features(self) -> FeatureReads: ...
    @property
    def grants(self) -> GrantReads: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def alerts(self) -> AlertsRepository: ...
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
    def stripe_accounts(self) -> StripeAccountsRepository: ...
    @property
    def stripe_customers(self) -> StripeCustomersRepository: ...
    @property
    def subscription_items(self) -> SubscriptionItemsRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...

    def commit(self) -> None: ...
