"""How a unit of work's transaction begins and ends (``unit_of_work.py`` holds what runs in
between). On PostgreSQL an ingest group's transaction may have been opened by its first
statement and hold writes for its ``COMMIT`` (``postgres/group_head.py``, ADR 0969): the
commit sends them, and the end sets the driver connection back before it is pooled.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from stripemeter_server.storage.database_errors import translate_errors
from stripemeter_server.storage.postgres.group_head import DriverTransaction


def begin(engine: Engine, *, read_only: bool, statements_alone: bool) -> Connection:
    """A pooled connection in a new transaction. ``statements_alone`` (PostgreSQL reads):
    each statement in its own implicit transaction, as READ COMMITTED gives each its own
    snapshot anyway (ADR 0883)."""
    with translate_errors():
        conn = engine.connect()
        if read_only:
            conn = conn.execution_options(stripemeter_read_only=True)
        if statements_alone:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.begin()
    return conn


def commit(conn: Connection, driver: DriverTransaction) -> None:
    with translate_errors():
        driver.commit(conn)  # the deferred writes and COMMIT, if the driver opened it
        conn.commit()  # ends SQLAlchemy's transaction (nothing is sent if already ended)


def end(
    conn: Connection, driver: DriverTransaction, *, read_only: bool, committed: bool, failed: bool
) -> None:
    """Roll back what was not committed and return the connection to the pool."""
    try:
        if read_only and not committed and not failed:
            # A read ends in COMMIT, not ROLLBACK: the same for a transaction that wrote
            # nothing, but psycopg forgets every prepared statement on a rollback
            # (``DEALLOCATE ALL``), the connection's write statements included.
            conn.commit()
        elif not committed:
            conn.rollback()
    except sa_exc.DBAPIError:
        pass
    finally:
        driver.settle(conn)
        conn.close()
