"""The few places where SQLite and PostgreSQL differ: upsert syntax and row locks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

T = TypeVar("T")
IN_LIST_CHUNK = 500


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing/do_update`` on either store."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def for_update(conn: Connection, query: Select[Any]) -> Select[Any]:
    """Row locks on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return query.with_for_update() if is_postgres(conn) else query


def chunks(items: Sequence[T], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
