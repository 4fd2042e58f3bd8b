"""A store's adapter, chosen once when the store opens: its statement shapes (the SQL
dialect object, ADR 0017) and its raw-driver ingest hot path (ADR 0018)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from stripemeter_server.storage.catalog.definitions import CustomersRepository
from stripemeter_server.storage.ledger.counters import CountersRepository
from stripemeter_server.storage.ledger.events import EventsRepository
from stripemeter_server.storage.postgres import PostgresDialect, partitions
from stripemeter_server.storage.postgres.ledger import (
    PostgresCountersRepository,
    PostgresCustomersRepository,
    PostgresEventsRepository,
)
from stripemeter_server.storage.sql_dialect import SqlDialect
from stripemeter_server.storage.sqlite import SqliteDialect
from stripemeter_server.storage.sqlite.ledger import (
    SqliteCountersRepository,
    SqliteCustomersRepository,
    SqliteEventsRepository,
)


@dataclass(frozen=True)
class StoreAdapter:
    dialect: SqlDialect
    events: type[EventsRepository]
    counters: type[CountersRepository]
    customers: type[CustomersRepository]
    # Create the ledger's partitions due by ``now_us`` (PostgreSQL, ADR 0810); their names.
    prepare_partitions: Callable[[Connection, int], list[str]]


def _unpartitioned(_conn: Connection, _now_us: int) -> list[str]:
    return []


def adapter_for(name: str) -> StoreAdapter:
    """The adapter of the store SQLAlchemy names ``name`` (the one place that asks which
    store this is; repositories are handed the answer)."""
    if name == "postgresql":
        return StoreAdapter(
            PostgresDialect(),
            PostgresEventsRepository,
            PostgresCountersRepository,
            PostgresCustomersRepository,
            partitions.prepare,
        )
    if name == "sqlite":
        return StoreAdapter(
            SqliteDialect(),
            SqliteEventsRepository,
            SqliteCountersRepository,
            SqliteCustomersRepository,
            _unpartitioned,
        )
    raise ValueError(f"unsupported database: {name} (SQLite or PostgreSQL)")
