"""The PostgreSQL engine: psycopg 3 and a pool shared by every request of the process.

A connection is pinged before use only when it sat idle in the pool for a while (ADR
0860): SQLAlchemy's ``pool_pre_ping`` pings on every checkout, one round trip more for each
read (a tenth of a short read's wall time on a loaded machine). A connection in steady use
has just shown it works; one idle for longer than ``IDLE_PING_S`` — across a server restart
or a dropped link — is pinged, and replaced when the ping fails, as before.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError

IDLE_PING_S = 1.0
_RETURNED = "returned_at"  # the pool record's info: when it was last checked in


def postgres_engine(url: str, pool_size: int, execution_options: dict[str, Any]) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # a plain URL means this project's driver
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Last in, first out: concurrent requests reuse the same few connections (their
    # prepared statements and backends' caches warm), the rest stay idle (ADR 0954).
    engine = create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_use_lifo=True,
        execution_options=execution_options,
    )
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _returned(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Ping a connection that sat idle; a failed ping makes the pool take a fresh one."""
    returned = record.info.get(_RETURNED)
    if returned is not None and time.monotonic() - returned < IDLE_PING_S:
        return
    try:
        # Outside a transaction: the connection goes out idle (a unit of work may set it to
        # autocommit, ADR 0883), and no rollback clears psycopg's prepared statements.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as exc:  # any failure: the pool discards it and connects anew
        raise DisconnectionError() from exc
