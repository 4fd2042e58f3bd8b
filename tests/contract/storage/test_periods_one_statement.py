"""``GET /v1/usage/periods`` reads its inputs in one statement (ADR 0961): the answer computed
from it equals the five reads' (``billing_periods`` and ``open_sessions_for``), on SQLite and
PostgreSQL — monthly, daily and weekly metrics in several time zones, a customer's own
billing anchor, ranges that start and end inside a period, closed periods, open sessions
for this customer, for another and for every customer, an unknown metric."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.corrections.backfills import open_sessions_for
from stripemeter_server.service.usage.current import PeriodsAnswer, periods_from
from stripemeter_server.service.usage.reads import billing_periods
from stripemeter_server.storage.unit_of_work import Store
from tests.support.backfill import open_session
from tests.support.ledger import ingest, make_tenant

NOW = datetime(2025, 4, 20, tzinfo=UTC)
BASE = datetime(2025, 1, 1, tzinfo=UTC)
METRICS: list[dict[str, Any]] = [
    {"code": "m", "aggregation": "sum"},
    {"code": "t", "aggregation": "max", "period": {"type": "month", "timezone": "Asia/Tokyo"}},
    {"code": "d", "aggregation": "count", "period": {"type": "day", "timezone": "Europe/Berlin"}},
    {"code": "w", "aggregation": "sum", "period": {"type": "week"}},
]
CODES = [m["code"] for m in METRICS]
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DAY = 86_400

rows = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from(CODES),
            "customerRef": st.sampled_from(["cus_a", "cus_b"]),
            "quantity": st.sampled_from(["1", "2.50", "0.001", "40"]),
            "ts": st.integers(0, 100 * DAY).map(
                lambda s: (BASE + timedelta(seconds=s)).isoformat()
            ),
        }
    ),
    max_size=30,
)
spans = st.tuples(st.integers(-10 * DAY, 90 * DAY), st.integers(3600, 120 * DAY)).map(
    lambda r: (BASE + timedelta(seconds=r[0]), BASE + timedelta(seconds=r[0] + r[1]))
)
closes = st.lists(st.tuples(st.sampled_from(CODES), st.integers(0, 100 * DAY)), max_size=3)


def _plain(answer: PeriodsAnswer) -> tuple[Any, ...]:
    found, held = answer
    return (
        [(u.metric.code, u.period, u.state, u.status, u.lock) for u in found],
        sorted(r.backfill_id for r in held),
    )


def _five_reads(store: Store, tenant: str, metric: str, span: Any) -> PeriodsAnswer:
    with store.unit_of_work(tenant, read_only=True) as uow:
        found = billing_periods(uow, "cus_a", metric, span[0], span[1], NOW)
        return found, open_sessions_for(uow, "cus_a", metric)


def _one_statement(store: Store, tenant: str, metric: str, span: Any) -> PeriodsAnswer:
    with store.unit_of_work(tenant, read_only=True, shared_snapshot=False) as uow:
        inputs = uow.current_reads.period_inputs(
            "cus_a", metric, to_micros(span[0]), to_micros(span[1])
        )
        return periods_from(inputs, "cus_a", metric, span, NOW)


def _setup(store: Store, events: list[dict[str, Any]], closed: list[Any], anchor: bool) -> str:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, BASE - timedelta(days=30), METRICS)
    if anchor:  # the customer's own billing anchor and time zone
        with store.unit_of_work(tenant) as uow:
            uow.customers.upsert(CustomerRecord("cus_a", None, 10, "America/New_York", 0, 0))
            uow.commit()
    for i, event in enumerate(events):  # each on time: its period's counter holds it
        ts = datetime.fromisoformat(event["ts"])
        ingest(store, tenant, [{**event, "idempotencyKey": f"k{i}"}], ts + timedelta(seconds=1))
    with store.unit_of_work(tenant) as uow:
        for code, offset in closed:
            close_period(uow, "cus_a", code, BASE + timedelta(seconds=offset), NOW)
        uow.commit()
    open_session(store, tenant, NOW, metric="m", customers=["cus_a"])
    open_session(store, tenant, NOW, metric="m", customers=["cus_b"])
    open_session(store, tenant, NOW, metric="w")
    return tenant


@SETTINGS
@given(events=rows, span=spans, closed=closes, anchor=st.booleans())
def test_the_one_statement_answer_equals_the_five_reads(
    store: Store, events: list[dict[str, Any]], span: Any, closed: list[Any], anchor: bool
) -> None:
    tenant = _setup(store, events, closed, anchor)
    for code in CODES:
        expected = _plain(_five_reads(store, tenant, code, span))
        assert _plain(_one_statement(store, tenant, code, span)) == expected


def test_an_unknown_metric_is_the_same_404(store: Store) -> None:
    tenant = _setup(store, [], [], anchor=False)
    span = (BASE, BASE + timedelta(days=40))
    with pytest.raises(NotFoundError) as five:
        _five_reads(store, tenant, "nope", span)
    with pytest.raises(NotFoundError) as one:
        _one_statement(store, tenant, "nope", span)
    assert (one.value.code, one.value.message) == (five.value.code, five.value.message)
