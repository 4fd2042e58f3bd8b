"""The in-memory store at the ports: every tenant's tables in plain dicts (ADR 0026).

``FakeStore.unit_of_work`` hands out a ``FakeUnitOfWork`` that satisfies the units of
work of ingest, catalog, corrections, usage, alerts, credits, entitlements, the audit log
and tally pruning (mypy checks it at the end of this file), so those use cases run
against it unchanged, in microseconds. A unit of work left without ``commit`` rolls back
(its tables are restored from a snapshot), like the SQL one. The repositories' SQL
semantics are held by the contract suite in ``tests/contract/storage/repositories/``
(fake = SQLite = PostgreSQL). The ledger repositories are in ``fake_repos.py``, alerts in
``fake_alerts.py``, approvals, rebuild jobs and the audit log in ``fake_corrections.py``,
features, grants and reservations in ``fake_entitlements.py``; the catalog ones are here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from stripemeter_server.domain.credits import CreditGrant
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.alerts.ports import AlertsUnitOfWork
from stripemeter_server.service.catalog.definitions import encode_metric
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord, TenantRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.service.catalog.ports.unit_of_work import CatalogUnitOfWork
from stripemeter_server.service.corrections.ports.unit_of_work import CorrectionsUnitOfWork
from stripemeter_server.service.credits.ports import CreditsUnitOfWork
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork
from stripemeter_server.service.ingest.ports import IngestUnitOfWork, TallyPruningUnitOfWork
from stripemeter_server.service.operations.ports import AuditRecord, AuditUnitOfWork
from stripemeter_server.service.usage.ports import UsageUnitOfWork
from tests.support.fake_alerts import FakeAlerts
from tests.support.fake_corrections import (
    CorrectionTables,
    FakeApprovals,
    FakeAudit,
    FakeRebuildJobs,
)
from tests.support.fake_entitlements import (
    EntitlementTables,
    FakeFeatures,
    FakeGrants,
    FakeReservations,
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


@dataclass
class CatalogTables:
    """One tenant's catalog rows: metric definitions (JSON text), customers, prices."""

    metrics: dict[str, str] = field(default_factory=dict)
    customers: dict[str, CustomerRecord] = field(default_factory=dict)
    prices: dict[tuple[str, str], StoredPrice] = field(default_factory=dict)
    credit_grants: dict[str, CreditGrant] = field(default_factory=dict)


@dataclass
class FakeData:
    tenants: dict[str, TenantRecord] = field(default_factory=dict)
    catalogs: dict[str, CatalogTables] = field(default_factory=dict)
    ledgers: dict[str, LedgerTables] = field(default_factory=dict)
    corrections: dict[str, CorrectionTables] = field(default_factory=dict)
    entitlements: dict[str, EntitlementTables] = field(default_factory=dict)
    audit: list[tuple[str, AuditRecord]] = field(default_factory=list)


class FakeTenants:
    def __init__(self, tenants: dict[str, TenantRecord]) -> None:
        self._tenants = tenants

    def get(self, tenant_id: str) -> TenantRecord | None:
        return self._tenants.get(tenant_id)

    def list(self) -> list[TenantRecord]:
        return [self._tenants[t] for t in sorted(self._tenants)]

    def add(self, record: TenantRecord) -> None:
        self._tenants[record.tenant_id] = record

    def count(self) -> int:
        return min(len(self._tenants), 1)  # as the adapter: whether any tenant exists


class FakeMetrics:
    def __init__(self, tables: CatalogTables) -> None:
        self._metrics = tables.metrics

    def all(self) -> dict[str, str]:
        return dict(sorted(self._metrics.items()))

    def get(self, code: str) -> str | None:
        return self._metrics.get(code)

    def add(self, code: str, definition: str, now_us: int) -> bool:
        if code in self._metrics:
            return False  # another writer created it first
        self._metrics[code] = definition
        return True

    def replace(self, code: str, definition: str, now_us: int) -> None:
        if code in self._metrics:
            self._metrics[code] = definition

    def delete(self, code: str) -> bool:
        return self._metrics.pop(code, None) is not None


class FakeCustomers:
    def __init__(self, tables: CatalogTables) -> None:
        self._customers = tables.customers

    def get_many(self, refs: list[str]) -> dict[str, CustomerRecord]:
        return {r: self._customers[r] for r in refs if r in self._customers}

    def get(self, ref: str) -> CustomerRecord | None:
        return self._customers.get(ref)

    def everyone(self) -> dict[str, CustomerRecord]:
        return dict(self._customers)

    def by_stripe_id(self, stripe_customer_id: str) -> CustomerRecord | None:
        return next(
            (c for c in self._customers.values() if c.stripe_customer_id == stripe_customer_id),
            None,
        )

    def upsert(self, record: CustomerRecord) -> None:
        kept = self._customers.get(record.customer_ref)
        created = kept.created_us if kept is not None else record.created_us
        self._customers[record.customer_ref] = CustomerRecord(
            record.customer_ref,
            record.stripe_customer_id,
            record.anchor_day,
            record.timezone,
            created,
            record.updated_us,
        )


class FakePrices:
    def __init__(self, tables: CatalogTables) -> None:
        self._prices = tables.prices

    def put(self, metric: str, customer_ref: str, definition: str, now_us: int) -> bool:
        kept = self._prices.get((metric, customer_ref))
        created = kept.created_us if kept is not None else now_us
        self._prices[(metric, customer_ref)] = StoredPrice(
            metric, customer_ref, definition, created, now_us
        )
        return kept is None

    def get(self, metric: str, customer_ref: str) -> StoredPrice | None:
        return self._prices.get((metric, customer_ref))

    def for_customer(self, customer_ref: str) -> list[StoredPrice]:
        wanted = (DEFAULT_CUSTOMER, customer_ref)
        return [p for k, p in sorted(self._prices.items()) if k[1] in wanted]

    def list(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[StoredPrice]:
        return [
            p
            for k, p in sorted(self._prices.items())
            if (metric is None or k[0] == metric) and (customer_ref is None or k[1] == customer_ref)
        ]

    def delete(self, metric: str, customer_ref: str) -> bool:
        return self._prices.pop((metric, customer_ref), None) is not None


class FakeCreditGrants:
    """Prepaid credit grants (the ingest path reads them for credit alerts)."""

    def __init__(self, tables: CatalogTables) -> None:
        self._grants = tables.credit_grants

    def add(self, grant: CreditGrant) -> bool:
        if grant.grant_id in self._grants or any(
            g.idempotency_key == grant.idempotency_key for g in self._grants.values()
        ):
            return False  # the primary key or the idempotency key: the insert does nothing
        self._grants[grant.grant_id] = replace(
            grant, created_at=grant.created_at or grant.effective_at
        )
        return True

    def get(self, grant_id: str) -> CreditGrant | None:
        return self._grants.get(grant_id)

    def by_idempotency_key(self, idempotency_key: str) -> CreditGrant | None:
        return next(
            (g for g in self._grants.values() if g.idempotency_key == idempotency_key), None
        )

    def for_customer(self, customer_ref: str) -> list[CreditGrant]:
        return sorted(
            (g for g in self._grants.values() if g.customer_ref == customer_ref),
            key=lambda g: (g.created_at, g.grant_id),
        )

    def void(self, grant_id: str, now_us: int) -> None:
        grant = self._grants[grant_id]
        if grant.voided_at is None:
            self._grants[grant_id] = replace(grant, voided_at=from_micros(now_us))


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
        self.grants = FakeGrants(entitlements)
        self.reservations = FakeReservations(entitlements)
        self.metrics = FakeMetrics(catalog)
        self.customers = FakeCustomers(catalog)
        self.prices = FakePrices(catalog)
        self.tenants = FakeTenants(data.tenants)
        self.ingest_tallies = FakeIngestTallies(ledger)
        self.credit_grants = FakeCreditGrants(catalog)

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = copy.deepcopy(self._store.data)
        return self

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

    def unit_of_work(
        self, tenant_id: str = "", *, read_only: bool = False, actor: str | None = None
    ) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id, actor or self.actor)

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
            current.clear()
            current.extend(kept) if isinstance(current, list) else current.update(kept)


# mypy checks here that the fake satisfies the ports (``make lint`` type-checks this file)
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


__all__ = ["FakeStore", "FakeUnitOfWork"]


def _as_credits(uow: FakeUnitOfWork) -> CreditsUnitOfWork:
    return uow


def _as_entitlements(uow: FakeUnitOfWork) -> EntitlementsUnitOfWork:
    return uow


def _as_audit(uow: FakeUnitOfWork) -> AuditUnitOfWork:
    return uow


def _as_tally_pruning(uow: FakeUnitOfWork) -> TallyPruningUnitOfWork:
    return uow
