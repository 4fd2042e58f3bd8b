"""Prepaid credit grants: the repository port (records are the domain's ``CreditGrant``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from stripemeter_server.domain.credits import CreditGrant

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
    from stripemeter_server.service.corrections.ports.backfills import BackfillsRepository
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.operations.ports import AuditRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository
    from stripemeter_server.service.ports.events import EventsRepository


class CreditGrantsRepository(Protocol):
    def add(self, grant: CreditGrant) -> bool:
        """Store the grant; False when its idempotency key is taken already."""
        ...

    def get(self, grant_id: str) -> CreditGrant | None: ...

    def by_idempotency_key(self, idempotency_key: str) -> CreditGrant | None: ...

    def for_customer(self, customer_ref: str) -> list[CreditGrant]:
        """Every grant of the customer, voided ones included, oldest first."""
        ...

    def void(self, grant_id: str, now_us: int) -> None: ...


class CreditsUnitOfWork(Protocol):
    """One transaction as the credits use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def billing_reads(self) -> BillingReads: ...
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
    def metrics(self) -> MetricsRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...
