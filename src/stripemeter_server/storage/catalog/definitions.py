"""Tenants, API keys, metric definitions and customer records."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from stripemeter_server.service.catalog.ports.definitions import (
    ApiKeyRecord,
    CustomerRecord,
    KeyStamp,
    TenantRecord,
)
from stripemeter_server.storage.catalog.stamp import CATALOG_VERSION, CatalogView
from stripemeter_server.storage.schema import (
    api_keys,
    customers,
    metrics,
    tenant_rate_limits,
    tenants,
)
from stripemeter_server.storage.sql_dialect import SqlDialect

# Built once (ingest runs them for every group): no statement object or cache key per call.
_METRICS = (
    select(metrics.c.code, metrics.c.definition)
    .where(metrics.c.tenant_id == bindparam("tenant"))
    .order_by(metrics.c.code)
)
_METRIC = select(metrics.c.definition).where(
    metrics.c.tenant_id == bindparam("tenant"), metrics.c.code == bindparam("code")
)
_CUSTOMER = select(customers).where(  # one customer's record, built once (ADR 0860)
    customers.c.tenant_id == bindparam("tenant"), customers.c.customer_ref == bindparam("ref")
)
_REVISIONS = (
    select(func.count(api_keys.c.revoked_us) + func.count(api_keys.c.expires_us))
    .where(api_keys.c.tenant_id == bindparam("tenant"))
    .scalar_subquery()
)
# The stamp's three columns (``:tenant`` bound): other statements that must check a key
# stamp in the same round trip (the portal's token check) select them too.
KEY_STAMP_COLUMNS = (
    _REVISIONS,
    *(
        select(column)
        .where(tenant_rate_limits.c.tenant_id == bindparam("tenant"))
        .scalar_subquery()
        for column in (tenant_rate_limits.c.rate_per_second, tenant_rate_limits.c.burst)
    ),
)
# The key stamp and, beside it, the catalog's number: one round trip for both (ADR 0947).
_KEY_STAMP = select(*KEY_STAMP_COLUMNS, CATALOG_VERSION)
KEY_STAMP = _KEY_STAMP  # and an ingest group's first round trip on PostgreSQL (ADR 0969)
_SQLITE_KEY_STAMP = str(_KEY_STAMP.compile(dialect=sqlite.dialect(paramstyle="named")))


def key_stamp(row: Any, first: int = 0) -> KeyStamp:
    """The stamp from a row holding ``KEY_STAMP_COLUMNS`` from position ``first``."""
    return KeyStamp(int(row[first]), row[first + 1], row[first + 2])


class TenantsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, tenant_id: str) -> TenantRecord | None:
        row = self._conn.execute(select(tenants).where(tenants.c.tenant_id == tenant_id)).first()
        return (
            TenantRecord(row.tenant_id, row.name, bool(row.auto_create_metrics), row.created_us)
            if row
            else None
        )

    def list(self) -> list[TenantRecord]:
        rows = self._conn.execute(select(tenants).order_by(tenants.c.tenant_id))
        return [
            TenantRecord(r.tenant_id, r.name, bool(r.auto_create_metrics), r.created_us)
            for r in rows
        ]

    def add(self, record: TenantRecord) -> None:
        self._conn.execute(
            tenants.insert().values(
                tenant_id=record.tenant_id,
                name=record.name,
                auto_create_metrics=record.auto_create_metrics,
                created_us=record.created_us,
            )
        )

    def any_exist(self) -> bool:
        return self._conn.execute(select(tenants.c.tenant_id).limit(1)).first() is not None


class ApiKeysRepository:
    def __init__(self, conn: Connection, catalog: CatalogView) -> None:
        self._conn = conn
        self._catalog = catalog

    def add(self, record: ApiKeyRecord) -> None:
        self._conn.execute(
            api_keys.insert().values(
                tenant_id=record.tenant_id,
                key_id=record.key_id,
                key_hash=record.key_hash,
                prefix=record.prefix,
                scopes=",".join(sorted(record.scopes)),
                label=record.label,
                created_us=record.created_us,
                revoked_us=record.revoked_us,
            )
        )

    def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return self._record(row) if row else None

    def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        query = select(api_keys).order_by(api_keys.c.tenant_id, api_keys.c.created_us)
        if tenant_id is not None:
            query = query.where(api_keys.c.tenant_id == tenant_id)
        return [self._record(row) for row in self._conn.execute(query)]

    def revoke(self, tenant_id: str, key_id: str, now_us: int) -> bool:
        result = self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.tenant_id == tenant_id,
                api_keys.c.key_id == key_id,
                api_keys.c.revoked_us.is_(None),
            )
            .values(revoked_us=now_us)
        )
        return bool(result.rowcount)

    def expire(self, tenant_id: str, key_id: str, at_us: int) -> bool:
        """Let an active key work until ``at_us`` (a rotation's grace), then refuse it."""
        result = self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.tenant_id == tenant_id,
                api_keys.c.key_id == key_id,
                api_keys.c.revoked_us.is_(None),
                api_keys.c.expires_us.is_(None),
            )
            .values(expires_us=at_us)
        )
        return bool(result.rowcount)

    def stamp(self, tenant_id: str) -> KeyStamp:
        """The tenant's key stamp in one statement (one round trip per ingest group), which
        reads the tenant's catalog stamp too (ADR 0947). On SQLite the statement's text runs
        on the driver (ADR 0975): every SQLite ingest group reads it, and SQLAlchemy's
        execution of a compiled statement cost more than the read itself."""
        driver = self._conn.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            row = driver.execute(_SQLITE_KEY_STAMP, {"tenant": tenant_id}).fetchone()
        else:
            row = self._conn.execute(_KEY_STAMP, {"tenant": tenant_id}).one()
        self._catalog.seen(tenant_id, row[len(KEY_STAMP_COLUMNS)])
        return key_stamp(row)

    @staticmethod
    def _record(row: Any) -> ApiKeyRecord:
        return ApiKeyRecord(
            row.tenant_id,
            row.key_id,
            row.key_hash,
            row.prefix,
            frozenset(s for s in row.scopes.split(",") if s),
            row.label,
            row.created_us,
            row.revoked_us,
            row.expires_us,
        )


class MetricsRepository:
    """Stores each metric's definition as JSON text (the domain owns its shape). Every write
    increments the tenant's catalog stamp first, in its transaction (ADR 0947)."""

    def __init__(
        self, conn: Connection, dialect: SqlDialect, tenant_id: str, catalog: CatalogView
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._catalog = catalog

    def all(self) -> dict[str, str]:
        """Every definition: the store's copy when the transaction's catalog stamp matches
        it (no statement), else read and kept under the stamp."""
        kept = self._catalog.metrics()
        if kept is not None:
            return kept
        rows = self._conn.execute(_METRICS, {"tenant": self._tenant})
        found = {code: definition for code, definition in rows}  # noqa: C416 (not a mapping)
        self._catalog.keep_metrics(found)
        return found

    def get(self, code: str) -> str | None:
        return self._conn.execute(_METRIC, {"tenant": self._tenant, "code": code}).scalar()

    def add(self, code: str, definition: str, now_us: int) -> bool:
        """Insert unless present; returns False when another writer created it first."""
        self._catalog.changing(self._conn)
        result = self._conn.execute(
            self._dialect.upsert(metrics)
            .values(
                tenant_id=self._tenant,
                code=code,
                definition=definition,
                created_us=now_us,
                updated_us=now_us,
            )
            .on_conflict_do_nothing()
        )
        return bool(result.rowcount)

    def replace(self, code: str, definition: str, now_us: int) -> None:
        self._catalog.changing(self._conn)
        self._conn.execute(
            update(metrics)
            .where(metrics.c.tenant_id == self._tenant, metrics.c.code == code)
            .values(definition=definition, updated_us=now_us)
        )

    def delete(self, code: str) -> bool:
        self._catalog.changing(self._conn)
        result = self._conn.execute(
            delete(metrics).where(metrics.c.tenant_id == self._tenant, metrics.c.code == code)
        )
        return bool(result.rowcount)


class CustomersRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def get_many(self, refs: list[str]) -> dict[str, CustomerRecord]:
        if not refs:
            return {}
        rows = self._conn.execute(
            select(customers).where(
                customers.c.tenant_id == self._tenant, customers.c.customer_ref.in_(refs)
            )
        )
        return {r.customer_ref: self._record(r) for r in rows}

    def get(self, ref: str) -> CustomerRecord | None:
        row = self._conn.execute(_CUSTOMER, {"tenant": self._tenant, "ref": ref}).first()
        return self._record(row) if row else None

    def everyone(self) -> dict[str, CustomerRecord]:
        """All customer records of the tenant (only customers with overrides have one)."""
        rows = self._conn.execute(select(customers).where(customers.c.tenant_id == self._tenant))
        return {r.customer_ref: self._record(r) for r in rows}

    def by_stripe_id(self, stripe_customer_id: str) -> CustomerRecord | None:
        row = self._conn.execute(
            select(customers).where(
                customers.c.tenant_id == self._tenant,
                customers.c.stripe_customer_id == stripe_customer_id,
            )
        ).first()
        return self._record(row) if row else None

    def upsert(self, record: CustomerRecord) -> None:
        values = {
            "stripe_customer_id": record.stripe_customer_id,
            "anchor_day": record.anchor_day,
            "timezone": record.timezone,
            "updated_us": record.updated_us,
        }
        insert = self._dialect.upsert(customers).values(
            tenant_id=self._tenant,
            customer_ref=record.customer_ref,
            created_us=record.created_us,
            **values,
        )
        self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[customers.c.tenant_id, customers.c.customer_ref], set_=values
            )
        )

    @staticmethod
    def _record(row: Any) -> CustomerRecord:
        return CustomerRecord(
            row.customer_ref,
            row.stripe_customer_id,
            row.anchor_day,
            row.timezone,
            row.created_us,
            row.updated_us,
        )
