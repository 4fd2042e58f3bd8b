"""SQLite's read-only unit of work on the event loop (ADR 0961), opened without a pool
checkout (ADR 0971).

The usage reads on the loop ran on ``loop_engine``'s connection through SQLAlchemy's
``Engine.connect``: a pool checkout, a ``Connection`` and its transaction object, and their
ends, per read (~5 % of a current-usage read's CPU), for one statement run on the driver's
cursor anyway (``DriverStatement``). Here the one-statement reads (``current_reads``) run on
the thread's own driver connection (``LoopConnections``: a busy timeout of zero, no
``BEGIN``, as ``loop_engine``'s), and a SQLAlchemy connection is opened only when a use case
asks for one (history's ledger totals, a key stamp read apart). A lock met on either is
``RetryableConflict`` at once, as before, and the read is run on a worker thread.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType

from sqlalchemy.engine import Connection

from stripemeter_server.storage import transaction_bounds as bounds
from stripemeter_server.storage.catalog.stamp import CatalogCache
from stripemeter_server.storage.database_errors import translated
from stripemeter_server.storage.driver_statements import DriverHandle
from stripemeter_server.storage.sqlite.engine import LoopConnections
from stripemeter_server.storage.unit_of_work import UnitOfWork
from stripemeter_server.storage.usage_views import CurrentReadsRepository


class InlineUnitOfWork(UnitOfWork):
    """A read-only unit of work whose SQLAlchemy connection is opened on first use, and
    whose one-statement reads run on the thread's own driver connection."""

    def bind_driver(self, connections: LoopConnections, catalog: CatalogCache) -> InlineUnitOfWork:
        """The thread's driver connections, and the store's catalog cache (ADR 0947)."""
        self._connections = connections
        self._catalog_cache = catalog
        return self

    def __enter__(self) -> InlineUnitOfWork:
        return self  # nothing opened until a statement needs it

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = bounds.begin(self._engine, read_only=True, statements_alone=False)
        return self._conn

    @cached_property
    def current_reads(self) -> CurrentReadsRepository:
        handle = DriverHandle(self._engine.dialect, self._connections.get())
        return CurrentReadsRepository(handle, self._adapter.dialect, self.tenant_id)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:  # ends it and translates what was raised, as ever
            super().__exit__(exc_type, exc, tb)
            return
        error = None if exc is None else translated(exc)
        if error is not None:  # a lock met on the driver connection: retryable
            raise error from exc
