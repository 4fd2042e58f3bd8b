"""What a store keeps for the reads run on the event loop, per store.

SQLite (ADR 0961, ADR 0971): ``loop_engine``'s connections, one per loop thread, for what a
read asks of SQLAlchemy, and the same threads' own driver connections for the
one-statement reads (``LoopConnections``), handed out by an ``InlineUnitOfWork`` without a
pool checkout. PostgreSQL (ADR 0971): current usage awaited on the loop's own asynchronous
connections (``PostgresLoopReads``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from stripemeter_server.storage.adapters import StoreAdapter
from stripemeter_server.storage.catalog.stamp import CatalogCache
from stripemeter_server.storage.sqlite.engine import loop_connections, loop_engine
from stripemeter_server.storage.usage_loop_reads import loop_reads_for

if TYPE_CHECKING:
    from stripemeter_server.storage.inline_unit_of_work import InlineUnitOfWork

_LOOP_CONNECTIONS = 4  # PostgreSQL: an event loop's own connections for reads


class EventLoopReads:
    """The store's connections for reads on the event loop (see the module's docstring)."""

    def __init__(self, engine: Engine, sqlite_synchronous: str) -> None:
        self.engine = loop_engine(engine, sqlite_synchronous)  # SQLite, else None
        self._connections = loop_connections(engine, sqlite_synchronous)
        self.postgres = loop_reads_for(engine, _LOOP_CONNECTIONS)  # PostgreSQL, else None

    def inline_read(
        self, adapter: StoreAdapter, tenant_id: str, actor: str, catalog: CatalogCache
    ) -> InlineUnitOfWork | None:
        """SQLite's read-only unit of work on the loop (``Store.inline_read``), or ``None``."""
        from stripemeter_server.storage.inline_unit_of_work import InlineUnitOfWork  # a subclass

        if self.engine is None or self._connections is None:
            return None
        opened = InlineUnitOfWork(self.engine, adapter, tenant_id, read_only=True, actor=actor)
        return opened.bind_driver(self._connections, catalog)

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.close()
        if self.engine is not None:
            self.engine.dispose()
        if self._connections is not None:
            self._connections.close()
