"""In-memory catalog repositories: tenants, metric definitions, customers, prices and
prepaid credit grants (ADR 0026), with the SQL adapters' semantics (``storage/catalog/``,
``storage/credits.py``): an upsert keeps the row's creation time; a second insert of a key
does nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from stripemeter_server.domain.credits import CreditGrant
from stripemeter_server.domain.timestamps import from_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord, TenantRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice


@dataclass
class CatalogTables:
    """One tenant's catalog rows: metric definitions (JSON text), customers, prices."""

    metrics: dict[str, str] = field(default_factory=dict)
    customers: dict[str, CustomerRecord] = field(default_factory=dict)
    prices: dict[tuple[str, str], StoredPrice] = field(default_factory=dict)
    credit_grants: dict[str, CreditGrant] = field(default_factory=dict)


class FakeTenants:
    def __init__(self, tenants: dict[str, TenantRecord]) -> None:
        self._tenants = tenants

    def get(self, tenant_id: str) -> TenantRecord | None:
        return self._tenants.get(tenant_id)

    def list(self) -> list[TenantRecord]:
        return [self._tenants[t] for t in sorted(self._tenants)]

    def add(self, record: TenantRecord) -> None:
        self._tenants[record.tenant_id] = record

    def any_exist(self) -> bool:
        return bool(self._tenants)


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
