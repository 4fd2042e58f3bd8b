"""The ingest hot path on SQLite, on the raw ``sqlite3`` driver.

SQLite has one writer: every write transaction starts with ``BEGIN IMMEDIATE``, so between a
read and a write of the same transaction no one else can insert a key or create a counter.
That makes "select what exists, then write" exact here, and every write one plain
``executemany`` of a statement the driver caches (no SQL compiled per batch). Decimals are
stored as their exact text (``storage/types.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.storage.catalog.definitions import CustomersRepository
from stripemeter_server.storage.ledger.counters import (
    STATE_COLUMNS,
    CounterKey,
    CountersRepository,
    StoredCounter,
)
from stripemeter_server.storage.ledger.events import EventsRepository
from stripemeter_server.storage.types import decimal_text

# The key is (tenant_id, seq), which has no rowid alias: each row takes the next rowid as
# its ``seq``. ``max(rowid)`` must be the scalar subquery's only result column: only then
# does SQLite read it as one step to the end of the table's b-tree. Wrapped in ``coalesce``
# it scanned a whole index per row, and a batch's insert grew with the ledger.
_EVENT_INSERT = (
    f"INSERT INTO events (rowid, seq, tenant_id, {', '.join(LedgerEntry._fields)}) "
    f"SELECT n, n, {', '.join('?' * (len(LedgerEntry._fields) + 1))} "
    "FROM (SELECT coalesce((SELECT max(rowid) FROM events), 0) + 1 AS n) WHERE true "
    "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
)
# A batch numbered from the end once (ADR 0968): the write lock the transaction holds means
# no row can come in between, so row ``i`` of the batch gets ``last + i``, the number
# ``_EVENT_INSERT`` would give it, without the per-row subquery (~4-5 µs per event of insert
# and commit). ``max(rowid)`` alone, so SQLite reads it as one step to the b-tree's end.
_LAST_ROWID = "SELECT max(rowid) FROM events"
_EVENT_INSERT_NUMBERED = (
    f"INSERT INTO events (rowid, seq, tenant_id, {', '.join(LedgerEntry._fields)}) "
    f"VALUES ({', '.join('?' * (len(LedgerEntry._fields) + 3))}) "
    "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
)
# A key already stored skipped its number: the batch's rows (every rowid past ``last``) are
# taken back and go in through ``_EVENT_INSERT``, numbered without gaps as before.
_TAKE_BACK = "DELETE FROM events WHERE rowid > ?"
# The keys of the ``n`` rows inserted last (``insert_new`` of a batch holding stored keys).
_NEWEST_KEYS = (
    "SELECT idempotency_key FROM (SELECT tenant_id, idempotency_key FROM events "
    "ORDER BY rowid DESC LIMIT ?) WHERE tenant_id = ?"
)
_COUNTER_COLUMNS = ("period_end_us", *STATE_COLUMNS, "updated_us")
_QUOTED_STATE = ", ".join(f'"{c}"' for c in STATE_COLUMNS)
# Keys travel as one JSON array (``json_each``): the statement's text is the same for every
# batch, so the driver prepares it once, where an ``IN`` list of as many marks as keys was
# prepared again for every batch size, and each key is one index lookup (ADR 0889).
_FINGERPRINTS = (
    "SELECT e.idempotency_key, e.fingerprint FROM json_each(?) AS k CROSS JOIN events e "
    "WHERE e.tenant_id = ? AND e.idempotency_key = k.value"
)
# One statement per (metric, period) of the batch (usually one), the customers as one JSON
# array: each key is a direct seek, where a JSON triple per key was parsed three times by
# ``json_extract``. The rowid lets ``save`` update the row it read without a key lookup.
_COUNTER_SELECT = (
    "SELECT c.rowid, c.customer_ref, c.period_end_us, "
    + ", ".join(f'c."{c}"' for c in STATE_COLUMNS)
    + " FROM json_each(?) AS k CROSS JOIN counters c WHERE c.tenant_id = ? "
    "AND c.metric = ? AND c.customer_ref = k.value AND c.period_start_us = ?"
)
_JSON = msgspec.json.Encoder()
_COUNTER_UPSERT = (
    "INSERT INTO counters (tenant_id, metric, customer_ref, period_start_us, "
    + ", ".join(f'"{c}"' for c in _COUNTER_COLUMNS)
    + ") "
    f"VALUES ({', '.join('?' * (len(_COUNTER_COLUMNS) + 4))}) "
    "ON CONFLICT (tenant_id, metric, customer_ref, period_start_us) DO UPDATE SET "
    + ", ".join(f'"{c}" = excluded."{c}"' for c in _COUNTER_COLUMNS)
)
# A counter ``lock`` read, written back by its rowid (no conflict check through the key's
# index); the key is compared too, so a rowid that no longer names that counter updates
# nothing and the row goes through the upsert instead.
_COUNTER_UPDATE = (
    "UPDATE counters SET "
    + ", ".join(f'"{c}" = ?' for c in _COUNTER_COLUMNS)
    + " WHERE rowid = ? AND tenant_id = ? AND metric = ? AND customer_ref = ? "
    "AND period_start_us = ?"
)


def _counters(
    rows: Iterable[Sequence[Any]], metric: str, start_us: int
) -> Iterable[tuple[int, StoredCounter]]:
    """Each row of ``_COUNTER_SELECT`` as its rowid and counter, the decimals from their text
    (the nullable ones tested inline). One generator for a statement's rows, not a call per
    counter: this runs once per counter a batch touches (ADR 0976)."""
    dec, state, stored = Decimal, CounterState, StoredCounter
    for (
        rowid,
        customer_ref,
        end_us,
        count,
        total,
        high,
        low,
        latest,
        latest_ts_us,
        latest_key,
        unique_count,
        adjustments,
        late_out,
        watermark_us,
        late_count,
    ) in rows:
        yield (
            rowid,
            stored(
                metric,
                customer_ref,
                start_us,
                end_us,
                state(
                    count,
                    dec(total),
                    None if high is None else dec(high),
                    None if low is None else dec(low),
                    None if latest is None else dec(latest),
                    latest_ts_us,
                    latest_key,
                    unique_count,
                    ZERO if adjustments == "0" else dec(adjustments),
                    ZERO if late_out == "0" else dec(late_out),
                    watermark_us,
                    late_count,
                ),
            ),
        )


class _Raw:
    """The driver connection under the unit of work's transaction."""

    _conn: Connection

    def _cursor(self) -> sqlite3.Cursor:
        driver = self._conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver.cursor()


class SqliteEventsRepository(_Raw, EventsRepository):
    def insert_new(self, entries: Sequence[LedgerEntry]) -> set[str]:
        if not entries:
            return set()
        tenant, text = self._tenant, decimal_text
        cursor = self._cursor()
        (last,) = cursor.execute(_LAST_ROWID).fetchone()
        # Every field named, not ``*rest``: a starred target built a list per row (ADR 0976).
        rows = [
            (
                n,
                n,
                tenant,
                key,
                metric,
                customer,
                text(quantity),
                ts_us,
                received_us,
                resource,
                meta,
                fingerprint,
                late,
                after_close,
                voided,
                request,
                backfill,
            )
            for n, (
                key,
                metric,
                customer,
                quantity,
                ts_us,
                received_us,
                resource,
                meta,
                fingerprint,
                late,
                after_close,
                voided,
                request,
                backfill,
            ) in enumerate(entries, (last or 0) + 1)
        ]
        cursor.executemany(_EVENT_INSERT_NUMBERED, rows)
        numbered = cursor.rowcount
        if numbered == len(rows):
            return {e.idempotency_key for e in entries}
        if numbered <= 0:  # every key was stored already: nothing went in, nothing to number
            return set()
        cursor.execute(_TAKE_BACK, (last or 0,))  # gaps in ``seq``: numbered row by row below
        cursor.executemany(_EVENT_INSERT, [row[2:] for row in rows])
        added = cursor.rowcount
        if added <= 0:
            return set()
        # Some keys were in the ledger already (the caller usually checked first). Each row
        # inserted took the next rowid under the write lock the transaction holds, so the
        # ``added`` newest rows of the table are exactly this batch's new ones.
        cursor.execute(_NEWEST_KEYS, (added, tenant))
        batch = {e.idempotency_key for e in entries}
        return {key for (key,) in cursor.fetchall() if key in batch}

    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        cursor = self._cursor()
        cursor.execute(_FINGERPRINTS, (_JSON.encode(keys).decode(), self._tenant))
        return dict(cursor.fetchall())

    def mark_late(self, keys: Sequence[str]) -> None:
        if keys:
            self._cursor().executemany(
                "UPDATE events SET late = 1 WHERE tenant_id = ? AND idempotency_key = ?",
                [(self._tenant, key) for key in keys],
            )


class SqliteCountersRepository(_Raw, CountersRepository):
    # The rowids of the counters the last ``lock`` read, for the ``save`` that follows it.
    _rowids: dict[CounterKey, int] = {}

    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        """Load the counters (the transaction already holds the write lock); a counter that
        does not exist yet starts from zero and is created by ``save``."""
        self._rowids = rowids = {}
        if not periods:
            return {}
        # In the caller's order: SQLite's one writer holds the write lock already, so the
        # global lock order other stores need (``lock_order``) buys nothing here (ADR 0976).
        customers: dict[tuple[str, int], list[str]] = {}
        for metric, customer_ref, start_us in periods:
            customers.setdefault((metric, start_us), []).append(customer_ref)
        found: dict[CounterKey, StoredCounter] = {}
        cursor = self._cursor()
        tenant = self._tenant
        for (metric, start_us), refs in customers.items():
            cursor.execute(_COUNTER_SELECT, (_JSON.encode(refs).decode(), tenant, metric, start_us))
            for rowid, counter in _counters(cursor, metric, start_us):
                key = (metric, counter.customer_ref, start_us)
                rowids[key] = rowid
                found[key] = counter
        if len(found) == len(periods):  # every counter exists: the usual group
            return {key: found[key] for key in periods}
        return {
            key: found.get(key) or StoredCounter(*key, end_us, CounterState())
            for key, end_us in periods.items()
        }

    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None:
        rowids, self._rowids = self._rowids, {}
        tenant = self._tenant
        updates, inserts = [], []
        text = decimal_text
        for c in changed:
            s = c.state
            values = (
                c.period_end_us,
                s.count,
                text(s.sum),
                None if s.max is None else text(s.max),
                None if s.min is None else text(s.min),
                None if s.latest_value is None else text(s.latest_value),
                s.latest_ts_us,
                s.latest_key,
                s.unique_count,
                "0" if s.adjustments is ZERO else text(s.adjustments),
                "0" if s.late_out is ZERO else text(s.late_out),
                s.watermark_us,
                s.late_count,
                now_us,
            )
            key = (c.metric, c.customer_ref, c.period_start_us)
            rowid = rowids.get(key)
            if rowid is None:
                inserts.append((tenant, *key, *values))
            else:
                updates.append((*values, rowid, tenant, *key))
        cursor = self._cursor()
        if updates:
            cursor.executemany(_COUNTER_UPDATE, updates)
            if cursor.rowcount != len(updates):  # a rowid gone stale: the upsert is exact
                inserts.extend((row[-4], *row[-3:], *row[:-5]) for row in updates)
        if inserts:
            cursor.executemany(_COUNTER_UPSERT, inserts)

    def insert_many(self, rebuilt: Iterable[StoredCounter], now_us: int) -> None:
        self.save(rebuilt, now_us)

    def add_uniques(
        self, values: Sequence[tuple[str, str, int, str]]
    ) -> set[tuple[str, str, int, str]]:
        new = set()
        cursor = self._cursor()
        for value in sorted(set(values)):
            cursor.execute(
                "INSERT INTO counter_uniques (tenant_id, metric, customer_ref, period_start_us, "
                '"value") VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
                (self._tenant, *value),
            )
            if cursor.rowcount == 1:
                new.add(value)
        return new


_CUSTOMER_COLUMNS = (
    "c.customer_ref, c.stripe_customer_id, c.anchor_day, c.timezone, c.created_us, c.updated_us"
)


class SqliteCustomersRepository(_Raw, CustomersRepository):
    def get_many(self, refs: list[str]) -> dict[str, CustomerRecord]:
        """Ingest asks this for every batch: one prepared statement, the refs as one JSON
        array."""
        if not refs:
            return {}
        cursor = self._cursor()
        cursor.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM json_each(?) AS k CROSS JOIN customers c "
            "WHERE c.tenant_id = ? AND c.customer_ref = k.value",
            (_JSON.encode(refs).decode(), self._tenant),
        )
        return {row[0]: CustomerRecord(*row) for row in cursor.fetchall()}
