"""PostgreSQL's statement shapes: real row locks, SKIP LOCKED claims, advisory locks.

Several API nodes and workers share one PostgreSQL, so whatever must be serialised across
processes is serialised by the database: row locks, ``SKIP LOCKED`` for work queues,
transaction-scoped advisory locks for things that are not one row, and the database's clock
as the one clock every node reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, cast, func, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from stripemeter_server.storage.sql_dialect import Query

_ADVISORY_XACT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class PostgresDialect:
    name = "postgresql"

    def upsert(self, table: Table) -> postgresql.Insert:
        return postgresql.insert(table)

    def lock_rows(self, query: Query, of: Any = None) -> Query:
        return query.with_for_update(of=of)

    def share_rows(self, query: Query) -> Query:
        return query.with_for_update(read=True)

    def claim_due(self, query: Query) -> Query:
        return query.with_for_update(skip_locked=True)

    def clock_us(self) -> ColumnElement[Any]:
        # clock_timestamp(), not now(): the time of this statement, not of the BEGIN.
        return func.floor(func.extract("epoch", func.clock_timestamp()) * 1_000_000)

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        text_of: ColumnElement[Any] = cast(column, postgresql.JSON)[key].astext
        return text_of

    def lock_keys(self, conn: Connection, keys: Iterable[str]) -> None:
        for key in sorted(set(keys)):
            conn.execute(_ADVISORY_XACT_LOCK, {"key": key})

    def relax_commit_durability(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
