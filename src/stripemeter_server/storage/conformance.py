"""The SQL unit of work satisfies every feature's narrow unit of work (checked by mypy).

Each feature declares in its ports the repositories its use cases touch (ADR 0026). The
adapter implements them all structurally; this module is where mypy proves it, so a
repository added to a feature's protocol but missing here fails the type check, not a test.
Nothing calls these functions at run time.
"""

from __future__ import annotations

from stripemeter_server.service.alerts.ports import AlertsUnitOfWork
from stripemeter_server.service.catalog.ports.unit_of_work import CatalogUnitOfWork
from stripemeter_server.service.corrections.ports.unit_of_work import CorrectionsUnitOfWork
from stripemeter_server.service.credits.ports import CreditsUnitOfWork
from stripemeter_server.service.dashboard.ports import DashboardUnitOfWork
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork
from stripemeter_server.service.ingest.ports import IngestUnitOfWork, TallyPruningUnitOfWork
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork
from stripemeter_server.service.operations.ports import AuditUnitOfWork, OperationsUnitOfWork
from stripemeter_server.service.portal.ports import PortalUnitOfWork
from stripemeter_server.service.ports.unit_of_work import UnitOfWork as WholeUnitOfWork
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork
from stripemeter_server.service.stripe_sync.ports.unit_of_work import StripeSyncUnitOfWork
from stripemeter_server.service.usage.ports import UsageUnitOfWork
from stripemeter_server.storage.unit_of_work import UnitOfWork


def as_whole(uow: UnitOfWork) -> WholeUnitOfWork:
    return uow


def as_alerts(uow: UnitOfWork) -> AlertsUnitOfWork:
    return uow


def as_audit(uow: UnitOfWork) -> AuditUnitOfWork:
    return uow


def as_catalog(uow: UnitOfWork) -> CatalogUnitOfWork:
    return uow


def as_corrections(uow: UnitOfWork) -> CorrectionsUnitOfWork:
    return uow


def as_credits(uow: UnitOfWork) -> CreditsUnitOfWork:
    return uow


def as_dashboard(uow: UnitOfWork) -> DashboardUnitOfWork:
    return uow


def as_entitlements(uow: UnitOfWork) -> EntitlementsUnitOfWork:
    return uow


def as_ingest(uow: UnitOfWork) -> IngestUnitOfWork:
    return uow


def as_tally_pruning(uow: UnitOfWork) -> TallyPruningUnitOfWork:
    return uow


def as_invoicing(uow: UnitOfWork) -> InvoicingUnitOfWork:
    return uow


def as_operations(uow: UnitOfWork) -> OperationsUnitOfWork:
    return uow


def as_portal(uow: UnitOfWork) -> PortalUnitOfWork:
    return uow


def as_reconciliation(uow: UnitOfWork) -> ReconciliationUnitOfWork:
    return uow


def as_stripe_sync(uow: UnitOfWork) -> StripeSyncUnitOfWork:
    return uow


def as_usage(uow: UnitOfWork) -> UsageUnitOfWork:
    return uow
