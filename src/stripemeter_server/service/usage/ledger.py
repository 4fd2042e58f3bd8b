"""Reading the event ledger: keyset pages of events, for the API's listing."""

from __future__ import annotations

from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.service.usage.ports import UsageUnitOfWork as UnitOfWork


def events_page(uow: UnitOfWork, where: EventFilter, limit: int) -> list[StoredEvent]:
    """Up to ``limit`` events matching ``where``, in ledger order."""
    return uow.events.page(where, limit)
