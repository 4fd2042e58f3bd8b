"""A tenant's Stripe account (secrets stored encrypted), its metric mappings, and the cache
of Stripe customer ids found by metadata lookup."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.stripe_sync.ports.accounts import StoredMapping, StoredStripeAccount
from stripemeter_server.storage.schema import stripe_accounts, stripe_customers, stripe_mappings
from stripemeter_server.storage.sql_dialect import SqlDialect


class StripeAccountsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def get(self) -> StoredStripeAccount | None:
        row = self._conn.execute(
            select(stripe_accounts).where(stripe_accounts.c.tenant_id == self._tenant)
        ).first()
        if row is None:
            return None
        return StoredStripeAccount(
            row.secret_key_enc,
            row.webhook_secret_enc,
            row.api_base,
            row.key_last4,
            bool(row.livemode),
            row.created_us,
            row.updated_us,
            row.previous_webhook_secret_enc,
            row.previous_valid_until_us,
        )

    def put(self, account: StoredStripeAccount) -> None:
        values = {
            "secret_key_enc": account.secret_key_enc,
            "webhook_secret_enc": account.webhook_secret_enc,
            "api_base": account.api_base,
            "key_last4": account.key_last4,
            "livemode": account.livemode,
            "updated_us": account.updated_us,
            "previous_webhook_secret_enc": account.previous_webhook_secret_enc,
            "previous_valid_until_us": account.previous_valid_until_us,
        }
        statement = self._dialect.upsert(stripe_accounts).values(
            tenant_id=self._tenant, created_us=account.created_us, **values
        )
        self._conn.execute(
            statement.on_conflict_do_update(index_elements=["tenant_id"], set_=values)
        )

    def delete(self) -> bool:
        result = self._conn.execute(
            delete(stripe_accounts).where(stripe_accounts.c.tenant_id == self._tenant)
        )
        return bool(result.rowcount)


class MappingsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def get(self, metric: str) -> StoredMapping | None:
        row = self._conn.execute(
            select(stripe_mappings).where(
                stripe_mappings.c.tenant_id == self._tenant, stripe_mappings.c.metric == metric
            )
        ).first()
        return (
            StoredMapping(row.metric, row.definition, row.created_us, row.updated_us)
            if row
            else None
        )

    def all(self) -> list[StoredMapping]:
        rows = self._conn.execute(
            select(stripe_mappings)
            .where(stripe_mappings.c.tenant_id == self._tenant)
            .order_by(stripe_mappings.c.metric)
        )
        return [StoredMapping(r.metric, r.definition, r.created_us, r.updated_us) for r in rows]

    def put(self, metric: str, definition: str, now_us: int) -> None:
        statement = self._dialect.upsert(stripe_mappings).values(
            tenant_id=self._tenant,
            metric=metric,
            definition=definition,
            created_us=now_us,
            updated_us=now_us,
        )
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "metric"],
                set_={"definition": definition, "updated_us": now_us},
            )
        )

    def delete(self, metric: str) -> bool:
        result = self._conn.execute(
            delete(stripe_mappings).where(
                stripe_mappings.c.tenant_id == self._tenant, stripe_mappings.c.metric == metric
            )
        )
        return bool(result.rowcount)


class StripeCustomersRepository:
    """customerRef → Stripe customer id, as found by a metadata lookup (a cache)."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def get(self, customer_ref: str) -> str | None:
        row = self._conn.execute(
            select(stripe_customers.c.stripe_customer_id).where(
                stripe_customers.c.tenant_id == self._tenant,
                stripe_customers.c.customer_ref == customer_ref,
            )
        ).first()
        return None if row is None else str(row[0])

    def ref_for(self, stripe_customer_id: str) -> str | None:
        """The reverse lookup the invoice webhook needs."""
        row = self._conn.execute(
            select(stripe_customers.c.customer_ref)
            .where(
                stripe_customers.c.tenant_id == self._tenant,
                stripe_customers.c.stripe_customer_id == stripe_customer_id,
            )
            .order_by(stripe_customers.c.customer_ref)
            .limit(1)
        ).first()
        return None if row is None else str(row[0])

    def put(self, customer_ref: str, stripe_customer_id: str, now_us: int) -> None:
        statement = self._dialect.upsert(stripe_customers).values(
            tenant_id=self._tenant,
            customer_ref=customer_ref,
            stripe_customer_id=stripe_customer_id,
            looked_up_us=now_us,
        )
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "customer_ref"],
                set_={"stripe_customer_id": stripe_customer_id, "looked_up_us": now_us},
            )
        )

    def forget(self, customer_ref: str) -> None:
        self._conn.execute(
            delete(stripe_customers).where(
                stripe_customers.c.tenant_id == self._tenant,
                stripe_customers.c.customer_ref == customer_ref,
            )
        )
