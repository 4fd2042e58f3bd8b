"""The immutable event ledger. Rows are only ever inserted, or marked void / late."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from stripemeter_server.storage import pg_bulk
from stripemeter_server.storage.dialects import chunks, insert_for, is_postgres
from stripemeter_server.storage.schema import events


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    idempotency_key: str
    metric: str
    customer_ref: str
    quantity: Decimal
    ts_us: int
    received_us: int
    resource_id: str | None
    meta: str | None
    late: bool
    late_after_close: bool
    voided_us: int | None


def _event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        row.seq,
        row.idempotency_key,
        row.metric,
        row.customer_ref,
        row.quantity,
        row.ts_us,
        row.received_us,
        row.resource_id,
        row.meta,
        bool(row.late),
        bool(row.late_after_close),
        row.voided_us,
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    metric: str | None = None
    customer_ref: str | None = None
    ts_from_us: int | None = None
    ts_to_us: int | None = None
    after_seq: int | None = None
    include_void: bool = True


class EventsRepository:
    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert events whose key is new; returns the keys actually inserted.

        The unique (tenant, key) index makes this exact under concurrency: a racing request
        with the same key waits for ours and then inserts nothing.
        """
        if not rows:
            return set()
        if is_postgres(self._conn):
            ordered = sorted(rows, key=lambda r: r["idempotency_key"])
            return pg_bulk.insert_events(self._conn, self._tenant, ordered)
        ordered = sorted(rows, key=lambda r: r["idempotency_key"])
        for row in ordered:
            row["tenant_id"] = self._tenant
        insert = (
            insert_for(self._conn, events)
            .on_conflict_do_nothing(index_elements=[events.c.tenant_id, events.c.idempotency_key])
            .returning(events.c.idempotency_key)
        )
        return {r[0] for r in self._conn.execute(insert, ordered)}

    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for part in chunks(list(keys)):
            query = select(events.c.idempotency_key, events.c.fingerprint).where(
                events.c.tenant_id == self._tenant, events.c.idempotency_key.in_(list(part))
            )
            found.update({k: f for k, f in self._conn.execute(query)})
        return found

    def mark_late(self, keys: Sequence[str]) -> None:
        self._set_flag(keys, {"late": True})

    def _set_flag(self, keys: Sequence[str], values: dict[str, Any]) -> None:
        for part in chunks(list(keys)):
            self._conn.execute(
                update(events)
                .where(events.c.tenant_id == self._tenant, events.c.idempotency_key.in_(list(part)))
                .values(**values)
            )

    def get(self, key: str) -> StoredEvent | None:
        row = self._conn.execute(
            select(events).where(
                events.c.tenant_id == self._tenant, events.c.idempotency_key == key
            )
        ).first()
        return _event(row) if row else None

    def void(self, key: str, now_us: int) -> None:
        self._set_flag([key], {"voided_us": now_us})

    def page(self, flt: EventFilter, limit: int) -> list[StoredEvent]:
        query = self._filtered(flt).order_by(events.c.seq).limit(limit)
        return [_event(row) for row in self._conn.execute(query)]

    def stream(self, flt: EventFilter, batch: int = 5000) -> Iterator[StoredEvent]:
        """All matching events in ledger order, fetched in keyset pages (bounded memory)."""
        after = flt.after_seq
        while True:
            page = self.page(
                EventFilter(
                    flt.metric,
                    flt.customer_ref,
                    flt.ts_from_us,
                    flt.ts_to_us,
                    after,
                    flt.include_void,
                ),
                batch,
            )
            yield from page
            if len(page) < batch:
                return
            after = page[-1].seq

    def _filtered(self, flt: EventFilter) -> Any:
        query = select(events).where(events.c.tenant_id == self._tenant)
        if flt.metric is not None:
            query = query.where(events.c.metric == flt.metric)
        if flt.customer_ref is not None:
            query = query.where(events.c.customer_ref == flt.customer_ref)
        if flt.ts_from_us is not None:
            query = query.where(events.c.ts_us >= flt.ts_from_us)
        if flt.ts_to_us is not None:
            query = query.where(events.c.ts_us < flt.ts_to_us)
        if flt.after_seq is not None:
            query = query.where(events.c.seq > flt.after_seq)
        if not flt.include_void:
            query = query.where(events.c.voided_us.is_(None))
        return query
