"""The batch plain path (ADR 0968) against the path before it, on SQLite and PostgreSQL:
random batches ingested once with it and once with every event through the full checks and
every metric through ``matches``/``measure`` give the same per-event results, the same
counters and the same ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.service.ingest import stages
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store
from tests.support.ledger import counters, ingest, make_tenant

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
METRICS: list[dict[str, Any]] = [
    {"code": "s", "aggregation": "sum"},
    {"code": "c", "aggregation": "count"},
    {"code": "u", "aggregation": "unique_count"},
    {"code": "mx", "aggregation": "max"},
    {"code": "f", "aggregation": "sum", "filter": {"resourceId": "r1"}},
    {"code": "v", "aggregation": "sum", "valueProperty": "meta.v"},
    {"code": "d", "aggregation": "sum", "period": {"type": "day", "timezone": "Europe/Berlin"}},
]

timestamps = st.one_of(
    st.integers(-40 * 24 * 3600, 600).map(
        lambda s: (NOW + timedelta(seconds=s, microseconds=s % 7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ),
    st.integers(-40 * 24 * 3600, 0).map(
        lambda s: (NOW + timedelta(seconds=s)).astimezone(UTC).isoformat()
    ),
    st.sampled_from(["2025-03-20T13:00:00+02:00", "2025-02-30T10:00:00Z", "yesterday"]),
    st.none(),
)
quantities = st.one_of(
    st.decimals(min_value=0, max_value=10**4, places=2),
    st.integers(-1, 5),
    st.sampled_from(["1.5", "-2", "1e3"]),
)
event = st.fixed_dictionaries(
    {
        "metric": st.sampled_from([*(m["code"] for m in METRICS), "nope"]),
        "customerRef": st.sampled_from(["cus_a", "cus_b", 'cus_"q"', "cus_ü"]),
        "quantity": quantities,
        "ts": timestamps,
    },
    optional={
        "idempotencyKey": st.sampled_from(["k1", "k2", "k3", "k4", "k5", ""]),
        "resourceId": st.sampled_from(["r1", "r2"]),
        "meta": st.sampled_from([{"v": 2}, {"v": "x"}, {}]),
    },
)
batches = st.lists(st.lists(event, min_size=1, max_size=12), min_size=1, max_size=3)


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    new, old = (open_store(request.param, request, tmp_path) for _ in range(2))
    yield new, old
    new.close()
    old.close()


def _before(raws: Any, *_: Any) -> list[None]:
    """Every event to the full checks, as ``validate_event`` ended for any the plain path
    did not take."""
    return [None] * len(raws)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches)
def test_the_plain_batch_path_answers_as_the_path_before(
    stores: tuple[Store, Store], batches: list[list[dict[str, Any]]]
) -> None:
    new, old = stores
    tenant = f"t_{uuid.uuid4().hex[:10]}"
    for store in stores:
        make_tenant(store, tenant, NOW, METRICS)
    for batch in batches:
        got = ingest(new, tenant, batch, NOW)
        with (
            mock.patch.object(stages, "accept_plain_batch", _before),
            mock.patch.object(stages, "_measures_quantity", lambda _metric: False),
        ):
            expected = ingest(old, tenant, batch, NOW)
        assert got.results == expected.results
        assert got.tally == expected.tally and got.touched == expected.touched
    assert counters(new, tenant) == counters(old, tenant)
    keys = [e.idempotency_key for b in batches for e in ingest(new, tenant, b, NOW).results]
    named = [k for k in keys if k]
    ledgers = []
    for store in stores:
        with store.unit_of_work(tenant, read_only=True) as uow:
            ledgers.append(uow.events.fingerprints(named))
    assert ledgers[0] == ledgers[1]
