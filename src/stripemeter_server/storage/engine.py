"""Engines for the two stores: SQLite (embedded default, WAL, one file) and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

_USERINFO_PASSWORD = re.compile(r"(?P<head>//[^/@:]*):[^/]*@")  # up to the last '@'

_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|sslpassword)=)[^&#]*", re.IGNORECASE)


def masked_url(url: str) -> str:
    """A database URL fit to print or log: every password replaced by ``***``.

    The one masking function for URLs (serve banner, ``migrate``, the worker, logs). It works
    on the text, so even a URL that SQLAlchemy cannot parse is masked.
    """
    masked = _USERINFO_PASSWORD.sub(r"\g<head>:***@", url)
    return _QUERY_PASSWORD.sub(r"\g<head>***", masked)


# ``rowcount`` of an INSERT (``ON CONFLICT DO NOTHING`` tells "was it mine?" by it) is -1 on
# PostgreSQL unless SQLAlchemy is asked to keep the driver's count.
_EXECUTION_OPTIONS = {"preserve_rowcount": True}
_SQLITE_POOL = 40


def create_store_engine(
    url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, sqlite_synchronous)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         execution_options=_EXECUTION_OPTIONS)


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A SQLite connection is a file handle, but opening one runs the pragmas below: keep
    # enough for every request thread (AnyIO's pool has 40) so none is opened per request.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=_SQLITE_POOL, max_overflow=_SQLITE_POOL,
                           execution_options=_EXECUTION_OPTIONS)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN IMMEDIATE takes the write
        # lock up front: a reader never upgrades to a writer mid-transaction (no deadlock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("stripemeter_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
