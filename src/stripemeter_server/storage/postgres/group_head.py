"""An ingest group's transaction opened and closed with its first and last statements, on
PostgreSQL (ADR 0969).

psycopg begins a transaction by sending ``BEGIN`` alone and waiting for it before the first
statement, and commits with a ``COMMIT`` of its own: two round trips of the ten a group of
new single events made, and two of the five of a group of replays, each a wake-up of a
backend that shares the machine's cores. Here the group's first round trip is one psycopg
pipeline — ``BEGIN``, the key stamp (with the catalog's number) and the ledger check, one
sync at its end — and its last is a second one: the tally's upsert, then ``COMMIT``.

How: the driver connection, idle, is switched to autocommit for the transaction, so psycopg
sends no ``BEGIN`` of its own; the ``BEGIN`` in the pipeline opens the transaction, and every
later statement runs inside it (the server decides, not psycopg's flag). psycopg's
``commit``/``rollback`` look at the server's transaction status, not the flag, so
SQLAlchemy's commit and rollback still end it. ``settle`` sets the flag back once the
transaction has ended, before the connection returns to the pool; a connection whose flag
cannot be set back is invalidated (never pooled in autocommit). psycopg prepares the
statements in a pipeline as outside one: sent as one simple query with client-side binding
instead, they were planned per group, and the database's CPU per group rose by a fifth to a
half (ADR 0969).

The group's other writes whose answers nobody reads before the commit — the counters'
write-back and the ledger insert — are deferred to that last pipeline too (ADR 0974): a
group of new single events is four round trips (with the period locks checked by the
counters' claim, ``count_if_open``). A read of what they write in the same
transaction (alert evaluation) sends them first (``flush``). The ledger insert then cannot
answer which keys it stored, so a key a racing transaction claimed first fails it (a unique
violation on ``event_keys``) and with it the ``COMMIT``: the group runs again from its head,
where the ledger check finds the key, as when the insert stored fewer rows than it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.service.ingest.ports import GroupHead
from stripemeter_server.storage.catalog.definitions import KEY_STAMP, key_stamp
from stripemeter_server.storage.catalog.stamp import CatalogView
from stripemeter_server.storage.database_errors import translate_errors

_DIALECT = postgresql.dialect(paramstyle="pyformat")  # type: ignore[no-untyped-call]

# The ledger check of ``postgres/ledger.py`` (one index probe per key, ADR 0943), its values
# named like the key stamp's (``%(tenant)s``): one parameter mapping for the pipeline.
_FINGERPRINTS = (
    "SELECT e.idempotency_key, e.fingerprint "
    "FROM jsonb_array_elements_text(%(keys)s::jsonb) AS k(key) "
    "CROSS JOIN LATERAL (SELECT r.idempotency_key, r.fingerprint FROM event_keys r "
    "WHERE r.tenant_id = %(tenant)s AND r.idempotency_key = k.key LIMIT 1) e"
)
_STAMP = str(KEY_STAMP.compile(dialect=_DIALECT))
_JSON = msgspec.json.Encoder()
# Where a connection's open driver transaction is found by the repositories that defer to it
_OPEN = "stripemeter_driver_transaction"


def deferring(conn: Connection) -> DriverTransaction | None:
    """The driver transaction open on ``conn`` that takes deferred writes, if any."""
    found = conn.info.get(_OPEN)
    return found if isinstance(found, DriverTransaction) else None


@dataclass(slots=True)
class DriverTransaction:
    """One unit of work's transaction as opened on the driver (PostgreSQL only; on another
    store every method does nothing): whether it was, and the writes deferred to its
    ``COMMIT``."""

    store: str  # the SQL dialect's name
    opened: bool = False
    deferred: list[tuple[str, Sequence[Any]]] = field(default_factory=list)
    # the pooled connection's ``info``, where ``deferring`` finds this transaction while open
    info: dict[Any, Any] | None = None

    def defer(self, conn: Connection, sql: str, params: Sequence[Any]) -> bool:
        """Queue a write whose answer nobody reads, to go out with ``COMMIT``; False when
        this transaction was not opened here (the caller runs the statement itself)."""
        if not self.opened:
            return False
        self.deferred.append((sql, params))
        return True

    def head(
        self,
        conn: Connection,
        catalog: CatalogView,
        tenant: str,
        keys: Sequence[str],
        *,
        stamp: bool,
    ) -> GroupHead | None:
        """``BEGIN``, the key stamp (when ``stamp``; the catalog's number beside it, ADR
        0947) and the fingerprints of ``keys``, in one round trip; None if a statement ran
        in this transaction already (the caller then reads them the usual way)."""
        if self.store != "postgresql":
            return None
        driver = _driver(conn)
        if driver.autocommit or driver.info.transaction_status != TransactionStatus.IDLE:
            return None
        driver.autocommit = True
        self.opened = True
        self.info = conn.info
        self.info[_OPEN] = self
        params = {"keys": _JSON.encode(list(keys)).decode(), "tenant": tenant}
        with translate_errors(), driver.cursor() as stamped, driver.cursor() as checked:
            with driver.pipeline():  # sent together; one sync as the block ends
                driver.execute(b"BEGIN")
                if stamp:
                    stamped.execute(_STAMP, params)
                checked.execute(_FINGERPRINTS, params)
            found = None
            if stamp:
                row = stamped.fetchone()
                assert row is not None  # scalar subqueries without FROM: always one row
                catalog.seen(tenant, row[-1])
                found = key_stamp(row)
            fingerprints = dict(checked.fetchall())
        return GroupHead(found, fingerprints)

    def flush(self, conn: Connection) -> None:
        """Send the deferred writes now (one round trip), for a read that must see them."""
        self._send(conn, commit=False)

    def commit(self, conn: Connection) -> None:
        """Send the deferred writes with ``COMMIT`` (one round trip); SQLAlchemy's commit
        that follows finds the transaction ended and sends nothing."""
        self._send(conn, commit=True)

    def _send(self, conn: Connection, *, commit: bool) -> None:
        if not self.deferred:
            return
        deferred, self.deferred = self.deferred, []
        driver = _driver(conn)
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                for sql, params in deferred:
                    cursor.execute(sql, params)
                if commit:
                    cursor.execute(b"COMMIT")
        except pg_errors.UniqueViolation as exc:
            if exc.diag.table_name != "event_keys":
                raise
            raced = "an idempotency key was stored by a concurrent request"
            raise RetryableConflict(raced) from exc

    def settle(self, conn: Connection) -> None:
        """After the transaction ended: the driver's autocommit flag as it was."""
        if not self.opened:
            return
        self.opened = False
        self.deferred = []
        if self.info is not None:
            self.info.pop(_OPEN, None)
            self.info = None
        try:
            _driver(conn).autocommit = False
        except psycopg.Error:
            conn.invalidate()  # in a state the flag cannot be set back from: not pooled


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver
