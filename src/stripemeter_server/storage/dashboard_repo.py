"""Read-only queries of the operator dashboard that no other use case needs.

Every query is bounded for large tenants: lists use keyset paging on an index (never
``OFFSET``, never a ``COUNT(*)`` of a whole table), and window tallies stop at a cap.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal_column, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from stripemeter_server.service.ports.dashboard import ClosingPeriod, TenantPushStats, WindowTally
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.storage.events_repo import _event
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
                where += [ref >= prefix, ref < prefix + _PREFIX_END,
                          func.substr(ref, 1, len(prefix)) == prefix]
            if after is not None:
                where.append(ref > after)
            parts.append(select(ref.label("ref")).where(and_(*where)).distinct()
                         .order_by(ref).limit(limit))
        merged = union(*(p.subquery().select() for p in parts)).subquery()
        query = select(merged.c.ref).order_by(merged.c.ref).limit(limit)
        return [row[0] for row in self._conn.execute(query)]

    def customer_known(self, customer_ref: str) -> bool:
        for table in (counters, customers):
            found: object = self._conn.execute(select(literal_column("1")).where(
                table.c.tenant_id == self._tenant, table.c.customer_ref == customer_ref,
            ).limit(1)).first()
            if found is not None:
                return True
        return False

    def events_newest_first(self, *, metric: str | None, customer_ref: str | None,
                            before_seq: int | None, limit: int) -> list[StoredEvent]:
        query = select(events).where(events.c.tenant_id == self._tenant)
        order: ColumnElement[Any] = events.c.seq
        if customer_ref:
            # Through the (tenant, metric, customer, ts) index: the customer's metrics come
            # from its counters; ``seq + 0`` keeps the planner off the sequence index, which
            # would walk the whole ledger to find one customer's events.
            metrics = [metric] if metric else self._metrics_of(customer_ref)
            query = query.where(events.c.metric.in_(metrics),
                                events.c.customer_ref == customer_ref)
            order = events.c.seq + 0
        elif metric:
            query = query.where(events.c.metric == metric)
        if before_seq is not None:
            query = query.where(events.c.seq < before_seq)
        query = query.order_by(order.desc()).limit(limit)
        return [_event(row) for row in self._conn.execute(query)]

    def _metrics_of(self, customer_ref: str) -> list[str]:
        query = select(counters.c.metric).where(
            counters.c.tenant_id == self._tenant, counters.c.customer_ref == customer_ref,
        ).distinct()
        return [row[0] for row in self._conn.execute(query)]

    def first_seq_received_since(self, cutoff_us: int) -> int | None:
        """The first ledger position received at or after ``cutoff_us``, by a binary search
        over the sequence index (``received_us`` grows with ``seq``): ~40 index probes."""
        mine = events.c.tenant_id == self._tenant  # min and max apart: each one index probe
        low = self._conn.execute(select(func.min(events.c.seq)).where(mine)).scalar()
        high = self._conn.execute(select(func.max(events.c.seq)).where(mine)).scalar()
        if low is None or high is None or self._received_at_or_after(high) is None:
            return None
        found: int | None = None
        while low <= high:
            middle = (low + high) // 2
            probe = self._received_at_or_after(middle)
            if probe is not None and probe[1] >= cutoff_us:
                found, high = probe[0], middle - 1
            else:
                low = (probe[0] if probe is not None else middle) + 1
        return found

    def _received_at_or_after(self, seq: int) -> tuple[int, int] | None:
        row = self._conn.execute(
            select(events.c.seq, events.c.received_us)
            .where(events.c.tenant_id == self._tenant, events.c.seq >= seq)
            .order_by(events.c.seq).limit(1)).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def tally_from(self, first_seq: int | None, cap: int) -> WindowTally:
        if first_seq is None:
            return WindowTally(0, 0, False)
        window = (select(events.c.late).where(events.c.tenant_id == self._tenant,
                                              events.c.seq >= first_seq)
                  .order_by(events.c.seq).limit(cap + 1).subquery())
        query = select(func.count(), func.count().filter(window.c.late.is_(True)))
        count, late = self._conn.execute(query.select_from(window)).one()
        return WindowTally(min(int(count), cap), int(late), int(count) > cap)

    def periods_closing(self, now_us: int, until_us: int, limit: int) -> list[ClosingPeriod]:
        query = (select(counters.c.metric, counters.c.period_start_us, counters.c.period_end_us,
                        func.count())
                 .where(counters.c.tenant_id == self._tenant,
                        counters.c.period_end_us > now_us, counters.c.period_end_us <= until_us)
                 .group_by(counters.c.metric, counters.c.period_start_us,
                           counters.c.period_end_us)
                 .order_by(counters.c.period_end_us, counters.c.metric).limit(limit))
        return [ClosingPeriod(r[0], int(r[1]), int(r[2]), int(r[3]))
                for r in self._conn.execute(query)]

    def push_stats(self) -> TenantPushStats:
        query = (select(push_outbox.c.status, func.count(), func.min(push_outbox.c.created_us))
                 .where(push_outbox.c.tenant_id == self._tenant,
                        push_outbox.c.status.in_(("pending", "failed")))
                 .group_by(push_outbox.c.status))
        found = {r[0]: (int(r[1]), r[2]) for r in self._conn.execute(query)}
        pending = found.get("pending", (0, None))
        return TenantPushStats(pending[0], found.get("failed", (0, None))[0], pending[1])
