"""PostgreSQL: the current-usage read awaited on the event loop (ADR 0971).

``GET /v1/usage/current`` is one statement (ADR 0941) run without a transaction (ADR 0883).
On PostgreSQL it still ran on a worker thread, since psycopg's synchronous calls wait for
the server: the hop there and back (a queue, a condition, the GIL handed between two
threads) was about a third of the server's samples for a read, more than the statement.
Here it runs on the event loop itself, on psycopg's asynchronous connections of the loop's
own: the loop serves other requests while the server answers. The statement is the one
the unit of work runs (``usage_views.CURRENT_STATEMENTS``, its text and parameters from
``DriverStatement.bound``), prepared on its connection after its first use, and its row is
decoded by the same function (``usage_views.current_inputs_of``), so the answer is the
same, the key stamp included (revocation is still judged by the read's own statement).

Each event loop keeps at most ``limit`` connections, in autocommit, taken last in, first
out; when all are busy the read returns ``None`` and the caller reads through a unit of
work as before (on the pool, on a worker thread). A connection that fails, or whose read is
cancelled, is closed and never reused. A lost session (the server restarted, the link
dropped) also returns ``None``: the pool's path pings a connection that sat idle and
replaces a dead one, so a restart costs no client an error it would not have had before.
Other errors are translated as the unit of work translates them.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from stripemeter_server.service.ports.current_reads import CurrentInputs
from stripemeter_server.storage.database_errors import translated
from stripemeter_server.storage.usage_views import (
    CURRENT_STATEMENTS,
    current_inputs_of,
    current_params,
)

_STATEMENT = CURRENT_STATEMENTS["postgresql"]


class _LoopConnections:
    """One event loop's connections: the idle ones (last in, first out) and how many are
    open."""

    def __init__(self) -> None:
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.opened = 0

    def finish(self) -> None:
        """Close the idle connections without a loop (the loop is gone)."""
        for conn in self.idle:
            conn.pgconn.finish()
        self.idle.clear()


class PostgresLoopReads:
    """``LoopCurrentReads`` on PostgreSQL (see the module's docstring)."""

    def __init__(self, engine: Engine, limit: int) -> None:
        self._dialect = engine.dialect
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._limit = limit
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections] = (
            weakref.WeakKeyDictionary()
        )
        self._all: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()

    async def current_inputs(
        self, tenant_id: str, customer_ref: str, now_us: int
    ) -> CurrentInputs | None:
        params = current_params(tenant_id, customer_ref, now_us)
        row = await self._row(params)
        return None if row is None else current_inputs_of(row, "postgresql")

    def _pool(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        pool = self._loops.get(loop)
        if pool is None:
            pool = self._loops[loop] = _LoopConnections()
            weakref.finalize(loop, pool.finish)  # a loop gone: its connections closed
        return pool

    async def _row(self, params: dict[str, Any]) -> list[Any] | None:
        pool = self._pool()
        if pool.idle:
            conn = pool.idle.pop()
        elif pool.opened < self._limit:
            pool.opened += 1
            conn = await self._connect(pool)
        else:
            return None
        sql, args = _STATEMENT.bound(self._dialect, params)
        try:
            cursor = await conn.execute(sql, args, prepare=True)
            found = await cursor.fetchall()
            rows = _STATEMENT.processed(self._dialect, cursor, found)
        except BaseException as exc:  # cancelled too: the connection's state is unknown
            pool.opened -= 1
            self._all.discard(conn)
            await _discard(conn)
            if isinstance(exc, psycopg.OperationalError) and conn.broken:
                return None  # a lost session (a restart, a dropped link): the pool's path
            error = translated(exc)
            if error is not None:
                raise error from exc
            raise
        pool.idle.append(conn)
        return list(rows[0].values())

    async def _connect(self, pool: _LoopConnections) -> psycopg.AsyncConnection[Any]:
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except BaseException as exc:
            pool.opened -= 1
            error = translated(exc)
            if error is not None:
                raise error from exc
            raise
        self._all.add(conn)
        return conn

    def close(self) -> None:
        """Close every connection still open (from any thread: no loop is needed)."""
        for conn in list(self._all):
            conn.pgconn.finish()
        self._all.clear()
        self._loops.clear()


def loop_reads_for(engine: Engine, limit: int) -> PostgresLoopReads | None:
    """The engine's ``PostgresLoopReads``, or ``None`` on SQLite (it reads inline)."""
    return PostgresLoopReads(engine, limit) if engine.dialect.name == "postgresql" else None


async def _discard(conn: psycopg.AsyncConnection[Any]) -> None:
    try:
        await asyncio.shield(conn.close())
    except Exception:  # already broken: nothing to close cleanly
        conn.pgconn.finish()
