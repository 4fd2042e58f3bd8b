"""Small helpers for storage and service tests: a tenant with metrics, ingest and read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.ingest.outcome import IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.usage.reads import query_window
from stripemeter_server.storage.unit_of_work import Store
from tests.support.fake_store import FakeStore


def make_tenant(
    store: Store,
    tenant: str,
    now: datetime,
    metrics: Sequence[dict[str, Any]] = (),
    auto_create: bool = False,
) -> None:
    with store.unit_of_work(tenant) as uow:
        create_tenant(uow, tenant, name=None, auto_create_metrics=auto_create, now=now)
        for definition in metrics:
            create_metric(uow, metric_from_dict(definition), now)
        uow.commit()


def ingest(store: Store, tenant: str, events: Sequence[Any], now: datetime) -> IngestOutcome:
    with store.unit_of_work(tenant) as uow:
        outcome = ingest_batch(uow, list(events), now=now, limits=EventLimits())
        uow.commit()
    return outcome


def counters(
    store: Store | FakeStore, tenant: str, metric: str | None = None
) -> dict[tuple[str, str, int], Any]:
    """Every counter of the tenant as comparable plain values."""
    with store.unit_of_work(tenant, read_only=True) as uow:
        found: list[StoredCounter] = uow.counters.find(metric=metric)
    return {c.key: (c.period_end_us, _normalized(c.state)) for c in found}


def _normalized(state: Any) -> tuple[Any, ...]:
    def n(v: Any) -> Any:
        return v.normalize() if isinstance(v, Decimal) else v

    return (
        state.count,
        n(state.sum),
        n(state.max),
        n(state.min),
        n(state.latest_value),
        state.latest_ts_us,
        state.latest_key,
        state.unique_count,
        n(state.adjustments),
        n(state.late_out),
        state.watermark_us,
    )


def window(
    store: Store, tenant: str, customer: str, metric: str, start: datetime, end: datetime
) -> Any:
    with store.unit_of_work(tenant, read_only=True) as uow:
        return query_window(uow, customer, metric, start, end)


def us(ts: datetime) -> int:
    return to_micros(ts)
