"""SQLite's statement shapes: no row locks, because there is one writer at a time.

Every writing transaction starts with ``BEGIN IMMEDIATE`` (``engine.py`` beside this),
which takes the database's write lock up front. Whatever PostgreSQL serialises with row or
advisory locks is therefore already serialised here, and the lock clauses (which SQLite's
grammar does not have) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, cast, func
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from stripemeter_server.storage.sql_dialect import Query

_UNIX_EPOCH_JULIAN_DAY = 2440587.5
_MICROS_PER_DAY = 86_400_000_000


class SqliteDialect:
    name = "sqlite"

    def upsert(self, table: Table) -> sqlite.Insert:
        return sqlite.insert(table)

    def lock_rows(self, query: Query, of: Any = None) -> Query:
        return query

    def share_rows(self, query: Query) -> Query:
        return query

    def claim_due(self, query: Query) -> Query:
        return query

    def clock_us(self) -> ColumnElement[Any]:
        # SQLite 3.40 has no sub-second unixepoch(); julianday('now') is a double with about
        # 50 µs of resolution at today's dates, and 'now' has millisecond precision anyway.
        julian = func.julianday("now")
        return cast((julian - _UNIX_EPOCH_JULIAN_DAY) * _MICROS_PER_DAY, BigInteger)

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        return func.json_extract(column, f"$.{key}")

    def lock_keys(self, conn: Connection, keys: Iterable[str]) -> None:
        return None  # BEGIN IMMEDIATE already holds the one write lock

    def relax_commit_durability(self, conn: Connection) -> None:
        return None  # durability is the connection's PRAGMA synchronous setting
