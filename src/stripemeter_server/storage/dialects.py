"""Per-connection dialect checks, kept only for the ingest hot path.

``events_repo`` and ``counters_repo`` still ask the connection which store it is; every other
repository is handed its store's ``SqlDialect`` (``sql_dialect.py``) by the unit of work.
This module goes away when the hot path moves to the raw-driver adapters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stripemeter_server.storage.chunking import chunks

__all__ = ["chunks", "for_update", "insert_for", "is_postgres"]


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing/do_update`` on either store."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def for_update(conn: Connection, query: Select[Any]) -> Select[Any]:
    """Row locks on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return query.with_for_update() if is_postgres(conn) else query
