"""The SQLite engine: one file in WAL mode, and one writer at a time, taken up front."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import SingletonThreadPool

from stripemeter_server.storage.sqlite.checkpoints import FALLBACK_PAGES, WalCheckpointer
from stripemeter_server.storage.sqlite.push_functions import register_push_functions

_POOL = 40
_LOOP_THREADS = 4  # event loops of one process that read inline (one, but for tests)


def sqlite_engine(url: str, synchronous: str, execution_options: dict[str, Any]) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A SQLite connection is a file handle, but opening one runs the pragmas below: keep
    # enough for every request thread (AnyIO's pool has 40) so none is opened per request.
    # Last in, first out: a few concurrent requests reuse the same few connections, whose
    # page caches stay warm, instead of rotating through all 40 and growing each one's
    # cache to its 16 MiB bound (ADR 0954: 318 MB of resident set under history reads).
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=_POOL,
        max_overflow=_POOL,
        pool_use_lifo=True,
        execution_options=execution_options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _prepare(dbapi_connection, synchronous, busy_timeout_ms=30_000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("stripemeter_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _prepare(dbapi_connection: Any, synchronous: str, *, busy_timeout_ms: int) -> None:
    # Take transaction control from the driver so that BEGIN IMMEDIATE takes the write
    # lock up front: a reader never upgrades to a writer mid-transaction (no deadlock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoints run on the store's own thread (ADR 0930); a writer checkpoints only
    # past this bound, should that thread fall behind or not run (a short CLI command).
    cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
    # 16 MiB of page cache (the default is 2): a batch's ledger insert lands at random
    # places of the metric/customer/ts index, and with 2 MiB its pages were evicted and
    # read back within one transaction (~8 % of the CPU per batched event, ADR 0889).
    # Pages are cached as a connection reads them, so an idle one stays small.
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()
    register_push_functions(dbapi_connection)  # the set-based push plan's (ADR 0985)


def loop_engine(engine: Engine, synchronous: str) -> Engine | None:
    """The connections for the reads run on the event loop (ADR 0961), beside ``engine``'s
    pool: one per thread that asks (an event loop's thread), so none is ever shared.
    ``None`` unless ``engine`` is on a SQLite file (another connection to an in-memory
    database would be another database).

    They never wait for a lock: their busy timeout is zero, so a read that would wait (a
    checkpoint restarting the WAL, say) fails at once with SQLite's ``database is locked``
    and is run again on a worker thread, on the pool, which waits as every other request
    does. Their statements run without ``BEGIN``: each reads what is committed when it
    runs, which is what those reads ask for (``shared_snapshot=False``)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    loop = create_engine(
        engine.url,
        connect_args={"check_same_thread": False, "timeout": 0},
        poolclass=SingletonThreadPool,
        pool_size=_LOOP_THREADS,
        execution_options=engine.get_execution_options(),
    )

    @event.listens_for(loop, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _prepare(dbapi_connection, synchronous, busy_timeout_ms=0)

    return loop


class LoopConnections:
    """The driver connections of the current-usage and periods reads on the event loop
    (ADR 0971): one per thread that asks, opened once and kept, so a read takes no
    connection from a pool (SQLAlchemy's ``Engine.connect`` per read was ~5 % of its CPU).
    Prepared as ``loop_engine``'s: a busy timeout of zero, no ``BEGIN``. ``close`` closes
    them all."""

    def __init__(self, database: str, synchronous: str) -> None:
        self._database = database
        self._synchronous = synchronous
        self._mine = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._mine, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._database, timeout=0, check_same_thread=False)
            _prepare(conn, self._synchronous, busy_timeout_ms=0)
            self._mine.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()


def loop_connections(engine: Engine, synchronous: str) -> LoopConnections | None:
    """``LoopConnections`` for a SQLite file (``None`` where ``loop_engine`` is)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return LoopConnections(database, synchronous)


def sqlite_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The engine's WAL checkpointer (not started), or ``None`` for an in-memory database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return WalCheckpointer(database)
