"""Which Stripe subscription item a customer's metric is reported to (legacy usage records):
an override set through the API, or the item found by lookup and cached."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    SubscriptionItemRecord,
)
from stripemeter_server.storage.schema import stripe_subscription_items
from stripemeter_server.storage.sql_dialect import SqlDialect


class SubscriptionItemsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def _where(self, customer_ref: str, metric: str) -> list[ColumnElement[bool]]:
        t = stripe_subscription_items.c
        return [t.tenant_id == self._tenant, t.customer_ref == customer_ref, t.metric == metric]

    def get(self, customer_ref: str, metric: str) -> SubscriptionItemRecord | None:
        row = self._conn.execute(
            select(stripe_subscription_items).where(*self._where(customer_ref, metric))
        ).first()
        if row is None:
            return None
        return SubscriptionItemRecord(
            row.customer_ref,
            row.metric,
            row.subscription_item_id,
            row.period_start_s,
            row.source,
            row.updated_us,
        )

    def put(self, record: SubscriptionItemRecord) -> None:
        values = {
            "subscription_item_id": record.subscription_item_id,
            "period_start_s": record.period_start_s,
            "source": record.source,
            "updated_us": record.updated_us,
        }
        statement = self._dialect.upsert(stripe_subscription_items).values(
            tenant_id=self._tenant, customer_ref=record.customer_ref, metric=record.metric, **values
        )
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "customer_ref", "metric"], set_=values
            )
        )

    def delete(self, customer_ref: str, metric: str) -> bool:
        result = self._conn.execute(
            delete(stripe_subscription_items).where(*self._where(customer_ref, metric))
        )
        return bool(result.rowcount)
