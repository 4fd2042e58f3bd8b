"""Use cases on the in-memory store: each test runs in milliseconds, no database.

The fake is held to the adapters by ``tests/contract/storage/repositories`` (fake = SQLite
= PostgreSQL per repository), so what passes here passes on the real stores too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.ingest.outcome import IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_batch
from tests.support.fake_store import FakeStore

NOW = datetime(2025, 3, 20, tzinfo=UTC)
TENANT = "t1"
METRICS = [{"code": "calls", "aggregation": "sum"}, {"code": "peak", "aggregation": "max"}]


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    fake.add_tenant(TENANT, NOW, METRICS)
    return fake


def ingest(store: FakeStore, *events: dict[str, Any]) -> IngestOutcome:
    with store.unit_of_work(TENANT, actor="key_1") as uow:
        outcome = ingest_batch(uow, list(events), now=NOW, limits=EventLimits())
        uow.commit()
    return outcome


def event(**changes: Any) -> dict[str, Any]:
    return {
        "metric": "calls",
        "customerRef": "cus_a",
        "quantity": "5",
        "ts": "2025-03-10T12:00:00Z",
        **changes,
    }
