"""Database errors as the service's own errors, at the unit of work's boundary.

``UnavailableError`` when the connection is lost (nothing was stored); ``RetryableConflict``
for deadlocks, serialization failures and SQLite's busy writer, which the caller retries as
a whole; anything else is a genuine bug and propagates as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import exc as sa_exc

from stripemeter_server.domain.errors import RetryableConflict, StripemeterError, UnavailableError

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


# Errors of statements run on the driver's own connection (the ingest and outbox hot paths
# use its cursors directly), which SQLAlchemy never wraps.
_DRIVER_ERRORS = (psycopg.Error, sqlite3.Error)
_DRIVER_LOST = (psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


def translated(exc: BaseException) -> StripemeterError | None:
    """The service error a database error means, or None for a genuine bug."""
    if isinstance(exc, sa_exc.DBAPIError):
        orig: BaseException | None = exc.orig
        lost = exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    elif isinstance(exc, _DRIVER_ERRORS):
        orig, lost = exc, isinstance(exc, _DRIVER_LOST)
    else:
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES or "database is locked" in str(orig):
        return RetryableConflict(str(orig))
    if lost:
        return UnavailableError("the database is unavailable; nothing was stored")
    return None


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except (sa_exc.DBAPIError, *_DRIVER_ERRORS) as exc:
        error = translated(exc)
        if error is None:
            raise
        raise error from exc
