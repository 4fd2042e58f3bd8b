"""The invoice webhook flow's tables: webhook events as durable jobs, the invoice items
billed per (metric, customer, period), and the Stripe invoices they went on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.invoicing.ports import (
    ITEM_PENDING,
    JOB_PENDING,
    InvoiceItemRecord,
    StripeInvoiceRecord,
    WebhookJob,
)
from stripemeter_server.storage.schema import (
    stripe_invoice_items,
    stripe_invoices,
    stripe_webhook_events,
)
from stripemeter_server.storage.sql_dialect import SqlDialect

R = TypeVar("R")


def _record(kind: type[R], row: Any) -> R:
    return kind(**{name: row._mapping[name] for name in kind.__slots__})  # type: ignore[attr-defined]


def _values(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in type(record).__slots__}


class WebhookJobsRepository:
    """Tenant-scoped, like every repository (the worker claims tenant by tenant)."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._t = stripe_webhook_events

    def _this(self, event_id: str) -> Any:
        return and_(self._t.c.tenant_id == self._tenant, self._t.c.event_id == event_id)

    def add(self, job: WebhookJob) -> bool:
        """Record a received event; False when Stripe's event id was already recorded."""
        # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT insert.
        row = self._conn.execute(
            self._dialect.upsert(self._t)
            .values(**_values(job))
            .on_conflict_do_nothing()
            .returning(self._t.c.event_id)
        ).first()
        return row is not None

    def get(self, event_id: str) -> WebhookJob | None:
        row = self._conn.execute(select(self._t).where(self._this(event_id))).first()
        return _record(WebhookJob, row) if row else None

    def claim(self, event_id: str, now_us: int, lease_us: int) -> WebhookJob | None:
        """Take one due job (after the commit that recorded it); None if someone holds it."""
        row = self._conn.execute(
            update(self._t)
            .where(
                self._this(event_id),
                self._t.c.status == JOB_PENDING,
                self._t.c.next_attempt_us <= now_us,
            )
            .values(
                next_attempt_us=now_us + lease_us,
                attempts=self._t.c.attempts + 1,
                updated_us=now_us,
            )
            .returning(self._t.c.event_id)
        ).first()
        return self.get(event_id) if row is not None else None

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[WebhookJob]:
        """Worker only: take the tenant's due jobs and lease them (SKIP LOCKED on
        PostgreSQL, so concurrent workers never take the same job)."""
        query = self._dialect.claim_due(
            select(self._t)
            .where(
                self._t.c.tenant_id == self._tenant,
                self._t.c.status == JOB_PENDING,
                self._t.c.next_attempt_us <= now_us,
            )
            .order_by(self._t.c.next_attempt_us)
            .limit(limit)
        )
        jobs = [_record(WebhookJob, row) for row in self._conn.execute(query)]
        claimed = []
        for job in jobs:
            self._conn.execute(
                update(self._t)
                .where(self._t.c.tenant_id == job.tenant_id, self._t.c.event_id == job.event_id)
                .values(
                    next_attempt_us=now_us + lease_us, attempts=job.attempts + 1, updated_us=now_us
                )
            )
            claimed.append(
                replace(job, next_attempt_us=now_us + lease_us, attempts=job.attempts + 1)
            )
        return claimed

    def finish(self, event_id: str, status: str, error: str | None, now_us: int) -> None:
        self._conn.execute(
            update(self._t)
            .where(self._this(event_id))
            .values(status=status, error=error, processed_us=now_us, updated_us=now_us)
        )

    def retry_at(self, event_id: str, at_us: int, error: str, now_us: int) -> None:
        self._conn.execute(
            update(self._t)
            .where(self._this(event_id))
            .values(next_attempt_us=at_us, error=error, updated_us=now_us)
        )

    def page(
        self, *, status: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[WebhookJob]:
        """Newest first, keyset by (received, event id)."""
        query = select(self._t).where(self._t.c.tenant_id == self._tenant)
        if status is not None:
            query = query.where(self._t.c.status == status)
        if before is not None:
            query = query.where(
                or_(
                    self._t.c.received_us < before[0],
                    and_(self._t.c.received_us == before[0], self._t.c.event_id < before[1]),
                )
            )
        query = query.order_by(self._t.c.received_us.desc(), self._t.c.event_id.desc())
        return [_record(WebhookJob, row) for row in self._conn.execute(query.limit(limit))]


class InvoiceItemsRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._t = stripe_invoice_items

    def _this(self, metric: str, customer_ref: str, period_start_us: int) -> Any:
        return and_(
            self._t.c.tenant_id == self._tenant,
            self._t.c.metric == metric,
            self._t.c.customer_ref == customer_ref,
            self._t.c.period_start_us == period_start_us,
        )

    def get(self, metric: str, customer_ref: str, period_start_us: int) -> InvoiceItemRecord | None:
        row = self._conn.execute(
            select(self._t).where(self._this(metric, customer_ref, period_start_us))
        ).first()
        return _record(InvoiceItemRecord, row) if row else None

    def add(self, record: InvoiceItemRecord) -> bool:
        """Write the intent; False when the period was already billed (the key is taken)."""
        row = self._conn.execute(
            self._dialect.upsert(self._t)
            .values(tenant_id=self._tenant, **_values(record))
            .on_conflict_do_nothing()
            .returning(self._t.c.metric)
        ).first()
        return row is not None

    def settle(
        self,
        record: InvoiceItemRecord,
        *,
        status: str,
        now_us: int,
        stripe_item_id: str | None = None,
        amount: int | None = None,
        error: str | None = None,
    ) -> None:
        """Move a pending intent to its outcome (only a pending one: a replay is a no-op)."""
        values: dict[str, Any] = {"status": status, "error": error, "updated_us": now_us}
        if stripe_item_id is not None:
            values["stripe_item_id"] = stripe_item_id
        if amount is not None:
            values["amount"] = amount
        self._conn.execute(
            update(self._t)
            .where(
                self._this(record.metric, record.customer_ref, record.period_start_us),
                self._t.c.status == ITEM_PENDING,
            )
            .values(**values)
        )

    def for_invoices(self, invoice_ids: Sequence[str]) -> list[InvoiceItemRecord]:
        if not invoice_ids:
            return []
        rows = self._conn.execute(
            select(self._t)
            .where(self._t.c.tenant_id == self._tenant, self._t.c.invoice_id.in_(list(invoice_ids)))
            .order_by(self._t.c.invoice_id, self._t.c.metric)
        )
        return [_record(InvoiceItemRecord, row) for row in rows]


class StripeInvoicesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._t = stripe_invoices

    def get(self, invoice_id: str) -> StripeInvoiceRecord | None:
        row = self._conn.execute(
            select(self._t).where(
                self._t.c.tenant_id == self._tenant, self._t.c.invoice_id == invoice_id
            )
        ).first()
        return _record(StripeInvoiceRecord, row) if row else None

    def put(self, record: StripeInvoiceRecord) -> None:
        """Insert, or update what Stripe says now (status, number, totals)."""
        changing = {
            name: getattr(record, name)
            for name in (
                "currency",
                "number",
                "status",
                "subtotal",
                "total",
                "amount_due",
                "finalized_us",
                "updated_us",
            )
        }
        self._conn.execute(
            self._dialect.upsert(self._t)
            .values(tenant_id=self._tenant, **_values(record))
            .on_conflict_do_update(index_elements=["tenant_id", "invoice_id"], set_=changing)
        )

    def page(
        self,
        *,
        status: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[StripeInvoiceRecord]:
        """Newest first, keyset by (created, invoice id)."""
        query = select(self._t).where(self._t.c.tenant_id == self._tenant)
        if status is not None:
            query = query.where(self._t.c.status == status)
        if customer_ref is not None:
            query = query.where(self._t.c.customer_ref == customer_ref)
        if before is not None:
            query = query.where(
                or_(
                    self._t.c.created_us < before[0],
                    and_(self._t.c.created_us == before[0], self._t.c.invoice_id < before[1]),
                )
            )
        query = query.order_by(self._t.c.created_us.desc(), self._t.c.invoice_id.desc())
        return [_record(StripeInvoiceRecord, row) for row in self._conn.execute(query.limit(limit))]
