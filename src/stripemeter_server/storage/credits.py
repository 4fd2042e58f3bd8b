"""Prepaid credit grants on both stores (what is left of each is computed when read)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from stripemeter_server.domain.credits import CreditCategory, CreditGrant
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.storage.schema import credit_grants
from stripemeter_server.storage.sql_dialect import SqlDialect


class CreditGrantsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def add(self, grant: CreditGrant) -> bool:
        applies = None if grant.applies_to is None else json.dumps(sorted(grant.applies_to))
        stmt = self._dialect.upsert(credit_grants).values(
            tenant_id=self._tenant,
            grant_id=grant.grant_id,
            customer_ref=grant.customer_ref,
            amount=grant.amount,
            denomination=grant.denomination,
            category=grant.category.value,
            priority=grant.priority,
            effective_us=to_micros(grant.effective_at),
            expires_us=None if grant.expires_at is None else to_micros(grant.expires_at),
            applies_to=applies,
            voided_us=None,
            idempotency_key=grant.idempotency_key,
            created_us=to_micros(grant.created_at or grant.effective_at),
        )
        return bool(self._conn.execute(stmt.on_conflict_do_nothing()).rowcount)

    def get(self, grant_id: str) -> CreditGrant | None:
        return self._one(credit_grants.c.grant_id == grant_id)

    def by_idempotency_key(self, idempotency_key: str) -> CreditGrant | None:
        return self._one(credit_grants.c.idempotency_key == idempotency_key)

    def _one(self, condition: Any) -> CreditGrant | None:
        row = self._conn.execute(
            select(credit_grants).where(credit_grants.c.tenant_id == self._tenant, condition)
        ).first()
        return grant_record(row._mapping) if row else None

    def for_customer(self, customer_ref: str) -> list[CreditGrant]:
        query = (
            select(credit_grants)
            .where(
                credit_grants.c.tenant_id == self._tenant,
                credit_grants.c.customer_ref == customer_ref,
            )
            .order_by(credit_grants.c.created_us, credit_grants.c.grant_id)
        )
        return [grant_record(row._mapping) for row in self._conn.execute(query)]

    def void(self, grant_id: str, now_us: int) -> None:
        self._conn.execute(
            update(credit_grants)
            .where(
                credit_grants.c.tenant_id == self._tenant,
                credit_grants.c.grant_id == grant_id,
                credit_grants.c.voided_us.is_(None),
            )
            .values(voided_us=now_us)
        )


def grant_record(row: Any) -> CreditGrant:
    applies, expires, voided = row["applies_to"], row["expires_us"], row["voided_us"]
    return CreditGrant(
        row["grant_id"],
        row["customer_ref"],
        row["amount"],
        row["denomination"],
        CreditCategory(row["category"]),
        row["priority"],
        from_micros(row["effective_us"]),
        None if expires is None else from_micros(expires),
        None if applies is None else frozenset(json.loads(applies)),
        None if voided is None else from_micros(voided),
        row["idempotency_key"],
        from_micros(row["created_us"]),
    )
