"""Engines for the two stores: SQLite (embedded default, WAL, one file) and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine, make_url

from stripemeter_server.storage.postgres.engine import postgres_engine
from stripemeter_server.storage.sqlite.engine import sqlite_engine

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
_EXECUTION_OPTIONS: dict[str, object] = {"preserve_rowcount": True}


def create_store_engine(
    url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10
) -> Engine:
    """The engine for the URL's store; each adapter package says how it connects."""
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_engine(url, sqlite_synchronous, _EXECUTION_OPTIONS)
    return postgres_engine(url, pool_size, _EXECUTION_OPTIONS)
