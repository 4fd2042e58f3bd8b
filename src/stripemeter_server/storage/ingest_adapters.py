"""The ingest hot path's repositories for a store, chosen once when the store opens."""

from __future__ import annotations

from dataclasses import dataclass

from stripemeter_server.storage.counters_repo import CountersRepository
from stripemeter_server.storage.events_repo import EventsRepository
from stripemeter_server.storage.postgres.ledger import (
    PostgresCountersRepository,
    PostgresEventsRepository,
)
from stripemeter_server.storage.sqlite.ledger import (
    SqliteCountersRepository,
    SqliteEventsRepository,
)


@dataclass(frozen=True)
class LedgerAdapter:
    events: type[EventsRepository]
    counters: type[CountersRepository]


SQLITE = LedgerAdapter(SqliteEventsRepository, SqliteCountersRepository)
POSTGRES = LedgerAdapter(PostgresEventsRepository, PostgresCountersRepository)


def ledger_adapter(dialect_name: str) -> LedgerAdapter:
    return POSTGRES if dialect_name == "postgresql" else SQLITE
