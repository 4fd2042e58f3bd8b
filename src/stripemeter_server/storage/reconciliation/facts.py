"""The ledger-side facts a reconciliation page reads, batched per metric and page of customers
(one query each, chunked for bind limits), so a run over many customers stays a handful of
queries per page: counters, unsent pushes, invoice-item intents and their invoices."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from stripemeter_server.service.invoicing.ports import InvoiceItemRecord
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.reconciliation.ports import UnsentPush
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.invoicing import _record
from stripemeter_server.storage.ledger.counters import _stored
from stripemeter_server.storage.schema import (
    counters,
    push_outbox,
    stripe_invoice_items,
    stripe_invoices,
)

Key = tuple[str, int]  # (customer_ref, period_start_us) within one metric


class ReconciliationFacts:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def counters(
        self, metric: str, customers: Sequence[str], min_end_us: int
    ) -> dict[Key, StoredCounter]:
        found: dict[Key, StoredCounter] = {}
        for part in chunks(sorted(set(customers))):
            rows = self._conn.execute(
                select(counters).where(
                    counters.c.tenant_id == self._tenant,
                    counters.c.metric == metric,
                    counters.c.customer_ref.in_(list(part)),
                    counters.c.period_end_us > min_end_us,
                )
            )
            for row in rows:
                counter = _stored(row)
                found[(counter.customer_ref, counter.period_start_us)] = counter
        return found

    def unsent_pushes(self, metric: str, customers: Sequence[str]) -> dict[Key, UnsentPush]:
        """The counter's unsent push (at most one per counter and target)."""
        found: dict[Key, UnsentPush] = {}
        for part in chunks(sorted(set(customers))):
            rows = self._conn.execute(
                select(
                    push_outbox.c.customer_ref,
                    push_outbox.c.period_start_us,
                    push_outbox.c.push_id,
                    push_outbox.c.status,
                    push_outbox.c.last_error_code,
                    push_outbox.c.value,
                    push_outbox.c.pushed_after,
                ).where(
                    push_outbox.c.tenant_id == self._tenant,
                    push_outbox.c.metric == metric,
                    push_outbox.c.customer_ref.in_(list(part)),
                    push_outbox.c.status.in_(["pending", "failed"]),
                )
            )
            for r in rows:
                found[(r[0], r[1])] = UnsentPush(r[2], r[3], r[4], int(r[5]), int(r[6]))
        return found

    def invoice_items(self, metric: str, customers: Sequence[str]) -> dict[Key, InvoiceItemRecord]:
        t = stripe_invoice_items
        found: dict[Key, InvoiceItemRecord] = {}
        for part in chunks(sorted(set(customers))):
            rows = self._conn.execute(
                select(t).where(
                    t.c.tenant_id == self._tenant,
                    t.c.metric == metric,
                    t.c.customer_ref.in_(list(part)),
                )
            )
            for row in rows:
                item = _record(InvoiceItemRecord, row)
                found[(item.customer_ref, item.period_start_us)] = item
        return found

    def credit_items(self, customers: Sequence[str], min_end_us: int) -> list[InvoiceItemRecord]:
        """The credit lines (``credit:{grant}``) billed to these customers whose billed
        periods end at or after ``min_end_us``."""
        t = stripe_invoice_items
        found: list[InvoiceItemRecord] = []
        for part in chunks(sorted(set(customers))):
            rows = self._conn.execute(
                select(t)
                .where(
                    t.c.tenant_id == self._tenant,
                    t.c.metric.startswith("credit:", autoescape=True),
                    t.c.customer_ref.in_(list(part)),
                    t.c.period_end_us >= min_end_us,
                )
                .order_by(t.c.customer_ref, t.c.period_start_us, t.c.metric)
            )
            found.extend(_record(InvoiceItemRecord, row) for row in rows)
        return found

    def invoice_statuses(self, invoice_ids: Sequence[str]) -> dict[str, str]:
        """The status stripemeter last recorded for each invoice (draft until finalized)."""
        found: dict[str, str] = {}
        for part in chunks(sorted(set(invoice_ids))):
            rows = self._conn.execute(
                select(stripe_invoices.c.invoice_id, stripe_invoices.c.status).where(
                    stripe_invoices.c.tenant_id == self._tenant,
                    stripe_invoices.c.invoice_id.in_(list(part)),
                )
            )
            found.update({r[0]: r[1] for r in rows})
        return found
