"""Stored prices: one JSON definition per (metric, customer), '' being the metric default.

The definition is kept as the API's canonical JSON text (``price_to_dict``) so that the
storage layer needs no knowledge of price models; parsing stays in the domain.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.storage.schema import prices
from stripemeter_server.storage.sql_dialect import SqlDialect

# Built once: every current-usage and portal read prices the customer's metrics (ADR 0830).
_FOR_CUSTOMER = (
    select(prices)
    .where(
        prices.c.tenant_id == bindparam("tenant"),
        prices.c.customer_ref.in_([bindparam("default"), bindparam("customer")]),
    )
    .order_by(prices.c.metric, prices.c.customer_ref)
)


class PricesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def put(self, metric: str, customer_ref: str, definition: str, now_us: int) -> bool:
        """Insert or replace; returns True when the price is new."""
        existed = self.get(metric, customer_ref) is not None
        stmt = self._dialect.upsert(prices).values(
            tenant_id=self._tenant,
            metric=metric,
            customer_ref=customer_ref,
            definition=definition,
            created_us=now_us,
            updated_us=now_us,
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "metric", "customer_ref"],
                set_={"definition": definition, "updated_us": now_us},
            )
        )
        return not existed

    def get(self, metric: str, customer_ref: str) -> StoredPrice | None:
        row = self._conn.execute(
            select(prices).where(
                prices.c.tenant_id == self._tenant,
                prices.c.metric == metric,
                prices.c.customer_ref == customer_ref,
            )
        ).first()
        return _stored(row) if row else None

    def for_customer(self, customer_ref: str) -> list[StoredPrice]:
        """Every default price plus the customer's overrides (the caller resolves)."""
        params = {"tenant": self._tenant, "default": DEFAULT_CUSTOMER, "customer": customer_ref}
        return [_stored(row) for row in self._conn.execute(_FOR_CUSTOMER, params)]

    def list(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[StoredPrice]:
        query = select(prices).where(prices.c.tenant_id == self._tenant)
        if metric is not None:
            query = query.where(prices.c.metric == metric)
        if customer_ref is not None:
            query = query.where(prices.c.customer_ref == customer_ref)
        query = query.order_by(prices.c.metric, prices.c.customer_ref)
        return [_stored(row) for row in self._conn.execute(query)]

    def delete(self, metric: str, customer_ref: str) -> bool:
        result = self._conn.execute(
            delete(prices).where(
                prices.c.tenant_id == self._tenant,
                prices.c.metric == metric,
                prices.c.customer_ref == customer_ref,
            )
        )
        return bool(result.rowcount)


def _stored(row: object) -> StoredPrice:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredPrice(
        mapping["metric"],
        mapping["customer_ref"],
        mapping["definition"],
        mapping["created_us"],
        mapping["updated_us"],
    )
