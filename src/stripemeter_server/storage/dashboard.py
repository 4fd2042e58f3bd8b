"""Read-only queries of the operator dashboard that no other use case needs.

Every query is bounded for large tenants: lists use keyset paging on an index (never
``OFFSET``, never a ``COUNT(*)`` of a whole table); the overview's status counts come from
the ingest tallies (``ingest_tallies_repo``), not from counting events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal_column, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from stripemeter_server.service.dashboard.ports import ClosingPeriod, TenantPushStats
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.storage.ledger.events import _event
from stripemeter_server.storage.schema import counters, customers, events, push_outbox

# Above any character a customer reference may hold: the end of a prefix range.
_PREFIX_END = "\U0010ffff"


class DashboardRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def customer_refs(self, *, prefix: str, after: str | None, limit: int) -> list[str]:
        """Customer references with counters or a customer record, in order, from ``after``
        (exclusive), starting with ``prefix``: two index range scans, merged."""
        parts = []
        for table in (counters, customers):
            ref = table.c.customer_ref
            where = [table.c.tenant_id == self._tenant]
            if prefix:
                where += [
                    ref >= prefix,
                    ref < prefix + _PREFIX_END,
                    func.substr(ref, 1, len(prefix)) == prefix,
                ]
            if after is not None:
                where.append(ref > after)
            parts.append(
                select(ref.label("ref")).where(and_(*where)).distinct().order_by(ref).limit(limit)
            )
        merged = union(*(p.subquery().select() for p in parts)).subquery()
        query = select(merged.c.ref).order_by(merged.c.ref).limit(limit)
        return [row[0] for row in self._conn.execute(query)]

    def customer_known(self, customer_ref: str) -> bool:
        for table in (counters, customers):
            found: object = self._conn.execute(
                select(literal_column("1"))
                .where(
                    table.c.tenant_id == self._tenant,
                    table.c.customer_ref == customer_ref,
                )
                .limit(1)
            ).first()
            if found is not None:
                return True
        return False

    def events_newest_first(
        self, *, metric: str | None, customer_ref: str | None, before_seq: int | None, limit: int
    ) -> list[StoredEvent]:
        query = select(events).where(events.c.tenant_id == self._tenant)
        order: ColumnElement[Any] = events.c.seq
        if customer_ref:
            # Through the (tenant, metric, customer, ts) index: the customer's metrics come
            # from its counters; ``seq + 0`` keeps the planner off the sequence index, which
            # would walk the whole ledger to find one customer's events.
            metrics = [metric] if metric else self._metrics_of(customer_ref)
            query = query.where(events.c.metric.in_(metrics), events.c.customer_ref == customer_ref)
            order = events.c.seq + 0
        elif metric:
            query = query.where(events.c.metric == metric)
        if before_seq is not None:
            query = query.where(events.c.seq < before_seq)
        query = query.order_by(order.desc()).limit(limit)
        return [_event(row) for row in self._conn.execute(query)]

    def _metrics_of(self, customer_ref: str) -> list[str]:
        query = (
            select(counters.c.metric)
            .where(
                counters.c.tenant_id == self._tenant,
                counters.c.customer_ref == customer_ref,
            )
            .distinct()
        )
        return [row[0] for row in self._conn.execute(query)]

    def periods_closing(self, now_us: int, until_us: int, limit: int) -> list[ClosingPeriod]:
        query = (
            select(
                counters.c.metric,
                counters.c.period_start_us,
                counters.c.period_end_us,
                func.count(),
            )
            .where(
                counters.c.tenant_id == self._tenant,
                counters.c.period_end_us > now_us,
                counters.c.period_end_us <= until_us,
            )
            .group_by(counters.c.metric, counters.c.period_start_us, counters.c.period_end_us)
            .order_by(counters.c.period_end_us, counters.c.metric)
            .limit(limit)
        )
        return [
            ClosingPeriod(r[0], int(r[1]), int(r[2]), int(r[3])) for r in self._conn.execute(query)
        ]

    def push_stats(self) -> TenantPushStats:
        query = (
            select(push_outbox.c.status, func.count(), func.min(push_outbox.c.created_us))
            .where(
                push_outbox.c.tenant_id == self._tenant,
                push_outbox.c.status.in_(("pending", "failed")),
            )
            .group_by(push_outbox.c.status)
        )
        found = {r[0]: (int(r[1]), r[2]) for r in self._conn.execute(query)}
        pending = found.get("pending", (0, None))
        return TenantPushStats(pending[0], found.get("failed", (0, None))[0], pending[1])
