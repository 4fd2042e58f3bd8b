"""The in-memory store at the ports: every tenant's tables in plain dicts (ADR 0026).

``FakeStore.unit_of_work`` hands out a ``FakeUnitOfWork`` that satisfies every feature's
unit of work and the whole ``UnitOfWork`` the runner hands out (mypy checks it at the end
of this file), so any use case runs against it unchanged, in microseconds. A unit of work
left without ``commit`` rolls back (its tables are restored from a snapshot), like the SQL
one. The repositories' SQL semantics are held by the contract suite in
``tests/contract/storage/repositories/`` (fake = SQLite = PostgreSQL). The repositories
live beside this module, one file per area: ``fake_catalog.py``, ``fake_repos.py`` (the
ledger), ``fake_alerts.py``, ``fake_corrections.py``, ``fake_entitlements.py``,
``fake_stripe_sync.py``, ``fake_invoicing.py``, ``fake_reconciliation.py``,
``fake_operations.py`` (keys, buckets, heartbeats, gauges) and ``fake_portal.py`` (portal,
dashboard sessions and reads).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import TracebackType
from typing import Any

from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts.ports import AlertsUnitOfWork
from stripemeter_server.service.catalog.definitions import encode_metric
from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from stripemeter_server.service.catalog.ports.unit_of_work import CatalogUnitOfWork
from stripemeter_server.service.corrections.ports.unit_of_work import CorrectionsUnitOfWork
from stripemeter_server.service.credits.ports import CreditsUnitOfWork
from stripemeter_server.service.dashboard.ports import DashboardUnitOfWork
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork
from stripemeter_server.service.ingest.ports import (
    GroupHead,
    IngestUnitOfWork,
    TallyPruningUnitOfWork,
)
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork
from stripemeter_server.service.operations.ports import (
    AuditRecord,
    AuditUnitOfWork,
    OperationsUnitOfWork,
)
from stripemeter_server.service.portal.ports import PortalUnitOfWork
from stripemeter_server.service.ports.unit_of_work import UnitOfWork as WholeUnitOfWork
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork
from stripemeter_server.service.stripe_sync.ports.unit_of_work import StripeSyncUnitOfWork
from stripemeter_server.service.usage.ports import UsageUnitOfWork
from tests.support.fake_alerts import FakeAlerts
from tests.support.fake_billing_reads import FakeBillingReads
from tests.support.fake_catalog import (
    CatalogTables,
    FakeCreditGrants,
    FakeCustomers,
    FakeMetrics,
    FakePrices,
    FakeTenants,
)
from tests.support.fake_corrections import (
    CorrectionTables,
    FakeApprovals,
    FakeAudit,
    FakeRebuildJobs,
)
from tests.support.fake_current_reads import FakeCurrentReads
from tests.support.fake_entitlements import (
    EntitlementTables,
    FakeFeatures,
    FakeGrants,
    FakeReservations,
    FakeStampedGrants,
)
from tests.support.fake_invoicing import (
    FakeInvoiceItems,
    FakeStripeInvoices,
    FakeWebhookJobs,
    InvoicingTables,
)
from tests.support.fake_operations import (
    FakeApiKeys,
    FakeGauges,
    FakeHeartbeats,
    FakeRateLimits,
    SharedTables,
)
from tests.support.fake_portal import FakeDashboardReads, FakeDashboardSessions, FakePortal
from tests.support.fake_reconciliation import (
    FakeReconciliation,
    ReconciliationTables,
    TenantSlices,
)
from tests.support.fake_repos import (
    FakeAdjustments,
    FakeBackfills,
    FakeCounters,
    FakeEvents,
    FakeIngestTallies,
    FakePeriodCloses,
    LedgerTables,
)
from tests.support.fake_stripe_sync import (
    FakeMappings,
    FakePushes,
    FakeStripeAccounts,
    FakeStripeCustomers,
    FakeSubscriptionItems,
    StripeTables,
)


@dataclass
class FakeData:
    tenants: dict[str, TenantRecord] = field(default_factory=dict)
    catalogs: dict[str, CatalogTables] = field(default_factory=dict)
    ledgers: dict[str, LedgerTables] = field(default_factory=dict)
    corrections: dict[str, CorrectionTables] = field(default_factory=dict)
    entitlements: dict[str, EntitlementTables] = field(default_factory=dict)
    stripe: dict[str, StripeTables] = field(default_factory=dict)
    invoicing: dict[str, InvoicingTables] = field(default_factory=dict)
    reconciliation: dict[str, ReconciliationTables] = field(default_factory=dict)
    audit: list[tuple[str, AuditRecord]] = field(default_factory=list)
    shared: SharedTables = field(default_factory=SharedTables)  # rows found across tenants


class FakeUnitOfWork:
    """One tenant's transaction over the fake tables; only ``commit`` keeps its writes."""

    def __init__(self, store: FakeStore, tenant_id: str, actor: str) -> None:
        self._store = store
        self._snapshot: FakeData | None = None
        self._committed = False
        self.tenant_id = tenant_id
        self.actor = actor
        self.request_id: str | None = None
        data = store.data
        catalog = data.catalogs.setdefault(tenant_id, CatalogTables())
        ledger = data.ledgers.setdefault(tenant_id, LedgerTables())
        corrections = data.corrections.setdefault(tenant_id, CorrectionTables())
        self.events = FakeEvents(ledger)
        self.counters = FakeCounters(ledger)
        self.adjustments = FakeAdjustments(ledger)
        self.period_closes = FakePeriodCloses(ledger)
        self.backfills = FakeBackfills(ledger)
        self.alerts = FakeAlerts(
            ledger.alerts, tenant_id, lambda: [t.alerts for t in data.ledgers.values()]
        )
        self.approvals = FakeApprovals(corrections)
        self.rebuild_jobs = FakeRebuildJobs(corrections)
        self.audit = FakeAudit(data.audit, tenant_id)
        entitlements = data.entitlements.setdefault(tenant_id, EntitlementTables())
        self.features = FakeFeatures(entitlements)
        self.grants = FakeGrants(
            entitlements, catalog.customers, catalog.metrics, self.counters.get
        )
        self.reservations = FakeReservations(entitlements, ledger.counters, data.audit, tenant_id)
        self.metrics = FakeMetrics(catalog)
        self.customers = FakeCustomers(catalog)
        self.prices = FakePrices(catalog)
        self.tenants = FakeTenants(data.tenants)
        self.ingest_tallies = FakeIngestTallies(ledger)
        self.credit_grants = FakeCreditGrants(catalog)
        self.current_reads = FakeCurrentReads(self)
        self.stamped_grants = FakeStampedGrants(self)
        self.billing_reads = FakeBillingReads(self)
        self._stripe_side(store, tenant_id, ledger, catalog)

    def _stripe_side(
        self, store: FakeStore, tenant_id: str, ledger: LedgerTables, catalog: CatalogTables
    ) -> None:
        """The Stripe-side, invoicing, reconciliation, operations and portal repositories."""
        data = store.data
        stripe = data.stripe.setdefault(tenant_id, StripeTables())
        invoicing = data.invoicing.setdefault(tenant_id, InvoicingTables())
        reconciliation = data.reconciliation.setdefault(tenant_id, ReconciliationTables())
        self.stripe_accounts = FakeStripeAccounts(stripe)
        self.mappings = FakeMappings(stripe)
        self.stripe_customers = FakeStripeCustomers(stripe)
        self.subscription_items = FakeSubscriptionItems(stripe)
        self.pushes = FakePushes(stripe, ledger, lambda: data.stripe)
        self.webhook_jobs = FakeWebhookJobs(invoicing)
        self.invoice_items = FakeInvoiceItems(invoicing)
        self.stripe_invoices = FakeStripeInvoices(invoicing)
        slices = TenantSlices(ledger, stripe, invoicing, lambda: catalog.customers.keys())
        self.reconciliation = FakeReconciliation(
            reconciliation, slices, tenant_id, lambda: data.reconciliation
        )
        self.api_keys = FakeApiKeys(data.shared)
        self.rate_limits = FakeRateLimits(data.shared, tenant_id, lambda: store.db_now_us)
        self.heartbeats = FakeHeartbeats(data.shared)
        self.gauges = FakeGauges(lambda: data.ledgers.values())
        self.portal = FakePortal(data.shared, tenant_id)
        self.dashboard_sessions = FakeDashboardSessions(data.shared)
        self.dashboard = FakeDashboardReads(ledger, stripe, lambda: catalog.customers.keys())

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = copy.deepcopy(self._store.data)
        return self

    def group_head(self, keys: list[str], *, stamp: bool) -> GroupHead:
        found = self.api_keys.stamp(self.tenant_id) if stamp else None
        return GroupHead(found, self.events.fingerprints(keys))

    def commit(self) -> None:
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed and self._snapshot is not None:
            self._store.restore(self._snapshot)


class FakeStore:
    """Every tenant's tables in memory; one per test."""

    def __init__(self) -> None:
        self.data = FakeData()
        self.actor = "system"
        self.db_now_us = 0  # "the database's clock" a rate-limit bucket reads; tests set it

    def unit_of_work(
        self,
        tenant_id: str = "",
        *,
        read_only: bool = False,
        actor: str | None = None,
        shared_snapshot: bool = True,
    ) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id, actor or self.actor)

    def inline_read(self, tenant_id: str, *, actor: str | None = None) -> FakeUnitOfWork | None:
        """None: reads run through ``unit_of_work`` (only SQLite reads inline, ADR 0961)."""
        return None

    def loop_reads(self) -> None:
        """None: reads run through ``unit_of_work`` (only PostgreSQL's await, ADR 0971)."""
        return

    def add_tenant(
        self,
        tenant_id: str,
        now: datetime,
        metrics: Iterable[Mapping[str, Any]] = (),
        auto_create: bool = False,
    ) -> None:
        """A tenant with metric definitions, stored as ``create_metric`` stores them."""
        self.data.tenants[tenant_id] = TenantRecord(tenant_id, None, auto_create, to_micros(now))
        with self.unit_of_work(tenant_id) as uow:
            for definition in metrics:
                metric = metric_from_dict(definition)
                uow.metrics.add(metric.code, encode_metric(metric), to_micros(now))
            uow.commit()

    def restore(self, snapshot: FakeData) -> None:
        """Roll back: put every table back as it was (in place, so repositories stay bound)."""
        for table in fields(FakeData):
            kept, current = getattr(snapshot, table.name), getattr(self.data, table.name)
            if isinstance(current, list):
                current[:] = kept
            elif isinstance(current, dict):
                current.clear()
                current.update(kept)
            else:
                vars(current).update(vars(kept))


# mypy checks here that the fake satisfies the ports (``make lint`` type-checks this file)
def _as_whole(uow: FakeUnitOfWork) -> WholeUnitOfWork:
    return uow


def _as_ingest(uow: FakeUnitOfWork) -> IngestUnitOfWork:
    return uow


def _as_catalog(uow: FakeUnitOfWork) -> CatalogUnitOfWork:
    return uow


def _as_corrections(uow: FakeUnitOfWork) -> CorrectionsUnitOfWork:
    return uow


def _as_usage(uow: FakeUnitOfWork) -> UsageUnitOfWork:
    return uow


def _as_alerts(uow: FakeUnitOfWork) -> AlertsUnitOfWork:
    return uow


def _as_credits(uow: FakeUnitOfWork) -> CreditsUnitOfWork:
    return uow


def _as_entitlements(uow: FakeUnitOfWork) -> EntitlementsUnitOfWork:
    return uow


def _as_audit(uow: FakeUnitOfWork) -> AuditUnitOfWork:
    return uow


def _as_tally_pruning(uow: FakeUnitOfWork) -> TallyPruningUnitOfWork:
    return uow


def _as_stripe_sync(uow: FakeUnitOfWork) -> StripeSyncUnitOfWork:
    return uow


def _as_invoicing(uow: FakeUnitOfWork) -> InvoicingUnitOfWork:
    return uow


def _as_reconciliation(uow: FakeUnitOfWork) -> ReconciliationUnitOfWork:
    return uow


def _as_portal(uow: FakeUnitOfWork) -> PortalUnitOfWork:
    return uow


def _as_dashboard(uow: FakeUnitOfWork) -> DashboardUnitOfWork:
    return uow


def _as_operations(uow: FakeUnitOfWork) -> OperationsUnitOfWork:
    return uow


__all__ = ["FakeStore", "FakeUnitOfWork"]
