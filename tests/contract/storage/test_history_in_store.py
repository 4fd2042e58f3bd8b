"""Usage history summed by the store (ADR 0955) against folding the ledger row by row, on
SQLite and PostgreSQL: hour, day and month steps (months fall back to folding), ranges that
start or end inside a bucket, a time zone with a clock change in the range (days of 23 and
25 hours: folded), quantities with trailing zeros, void events (they do not count), and
metrics the store cannot sum (a filter, a value from meta, a maximum)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.service.usage import reads
from stripemeter_server.service.usage.reads import HistoryPoint, usage_history
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import ingest, make_tenant, us

NOW = datetime(2025, 4, 20, tzinfo=UTC)
BASE = datetime(2025, 3, 28, tzinfo=UTC)  # Europe/Berlin moves its clocks on 2025-03-30
METRICS: list[dict[str, Any]] = [
    {"code": "s", "aggregation": "sum"},
    {"code": "c", "aggregation": "count"},
    {"code": "z", "aggregation": "sum", "period": {"type": "month", "timezone": "Asia/Tokyo"}},
    {"code": "b", "aggregation": "sum", "period": {"type": "month", "timezone": "Europe/Berlin"}},
    {"code": "v", "aggregation": "sum", "valueProperty": "meta.n"},
    {"code": "mx", "aggregation": "max"},
    {"code": "f", "aggregation": "sum", "filter": {"meta.r": "eu"}},
]
CODES = [m["code"] for m in METRICS]
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

rows = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from(CODES),
            "customerRef": st.sampled_from(["cus_a", "cus_b"]),
            "quantity": st.sampled_from(["0", "1.5", "1.50", "1.500", "20", "7.25", "0.001"]),
            "ts": st.integers(0, 6 * 86_400 - 1).map(
                lambda s: (BASE + timedelta(seconds=s)).isoformat()
            ),
            "meta": st.fixed_dictionaries(
                {"r": st.sampled_from(["eu", "us"]), "n": st.sampled_from([1, "2.50", 3])}
            ),
        }
    ),
    min_size=0,
    max_size=40,
)
ranges = st.tuples(st.integers(-30, 6 * 24), st.integers(1, 7 * 24)).map(
    lambda r: (BASE + timedelta(hours=r[0], minutes=7 * (r[0] % 3)), r[1])
)


def _history(store: Store, tenant: str, metric: str, span: Any, step: str) -> list[HistoryPoint]:
    start, hours = span
    with store.unit_of_work(tenant, read_only=True) as uow:
        return usage_history(
            uow, "cus_a", metric, start, start + timedelta(hours=hours), step, None
        )


def _plain(points: list[HistoryPoint]) -> list[tuple[Any, ...]]:
    """What the answer shows of a point: the value as the API writes it (normalized)."""
    return [
        (p.start, p.end, p.group, None if p.value is None else p.value.normalize(), p.count)
        for p in points
    ]


def _folded(
    store: Store, tenant: str, metric: str, span: Any, step: str, patch: pytest.MonkeyPatch
) -> list[HistoryPoint]:
    with patch.context() as patched:
        patched.setattr(reads, "_summed_history", lambda *args: None)
        return _history(store, tenant, metric, span, step)


@SETTINGS
@given(events=rows, span=ranges, step=st.sampled_from(["hour", "day", "month"]))
def test_summed_in_store_equals_folded(
    store: Store,
    events: list[dict[str, Any]],
    span: Any,
    step: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, NOW, METRICS)
    stream = [{**row, "idempotencyKey": f"k{i}"} for i, row in enumerate(events)]
    ingest(store, tenant, stream, NOW)
    with store.unit_of_work(tenant) as uow:  # void every fifth event: it no longer counts
        for row in stream[::5]:
            uow.events.void(row["idempotencyKey"], us(NOW))
        uow.commit()
    for code in CODES:
        summed = _history(store, tenant, code, span, step)
        assert _plain(summed) == _plain(_folded(store, tenant, code, span, step, monkeypatch))


def test_the_store_sums_what_it_can_and_folds_the_rest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, NOW, METRICS)
    ingest(
        store,
        tenant,
        [
            {"metric": code, "customerRef": "cus_a", "quantity": q, "ts": ts, "meta": {"n": 1}}
            for code in CODES
            for q, ts in (("1.50", "2025-03-28T10:00:00Z"), ("2.5", "2025-03-29T23:59:59Z"))
        ],
        NOW,
    )
    asked: list[str] = []
    real = reads._summed_history

    def spy(uow: Any, metric: Any, *rest: Any) -> Any:
        found = real(uow, metric, *rest)
        if found is not None:
            asked.append(metric.code)
        return found

    monkeypatch.setattr(reads, "_summed_history", spy)
    for code in CODES:
        _history(store, tenant, code, (BASE, 24), "day")
    _history(store, tenant, "b", (BASE + timedelta(days=1), 72), "day")  # 23-hour day
    _history(store, tenant, "s", (BASE, 24 * 40), "month")
    assert asked == ["s", "c", "z", "b"]  # not: meta value, maximum, filter, clock change
    points = _history(store, tenant, "s", (BASE, 48), "day")
    assert [(p.value, p.count) for p in points] == [(Decimal("1.50"), 1), (Decimal("2.5"), 1)]
