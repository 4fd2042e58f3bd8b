"""The fake unit of work is a faithful stand-in: the same random stream of events through
the fake, the SQLite adapter and the PostgreSQL adapter gives the same outcome for every
event, the same counters, the same late-event adjustments and the same ingest tallies.

The streams mix every aggregation, an undefined metric, customers, deliberate duplicate and
conflicting replays, timestamps in closed periods (late after close) and out of order (late),
split into random batches; one stream also meets an early period close."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.storage.unit_of_work import Store
from tests.contract.storage.test_properties import METRICS, NOW, SETTINGS, quantities, split
from tests.support.fake_store import FakeStore
from tests.support.ledger import counters, make_tenant, us

MARCH = us(NOW.replace(day=1))
APRIL = us(NOW.replace(month=4, day=1))
Replay = tuple[int, bool]  # (index of the event replayed, with another quantity: a conflict)


def with_replays(stream: list[dict[str, Any]], replays: list[Replay]) -> list[dict[str, Any]]:
    again = []
    for index, conflicting in replays:
        original = stream[index % len(stream)]
        quantity = str(Decimal(original["quantity"]) + 1) if conflicting else original["quantity"]
        again.append({**original, "quantity": quantity})
    return stream + again


# Denser than test_properties' stream (fewer customers and days), so unique values, late
# events and closed periods meet across batches; "nope" is a metric no one defined.
single_events = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(["s", "u", "u", "c", "mx", "l", "nope"]),
        "customerRef": st.sampled_from(["cus_a", "cus_b"]),
        "quantity": quantities.map(str),
        "ts": st.integers(45, 78).map(
            lambda day: (datetime(2025, 1, 1, 6, tzinfo=UTC) + timedelta(days=day)).isoformat()
        ),
        "meta": st.fixed_dictionaries({"u": st.sampled_from(["x", "y"])}),
    }
)
streams = st.builds(
    with_replays,
    st.lists(single_events, min_size=8, max_size=40).map(
        lambda rows: [{**row, "idempotencyKey": f"k{i}"} for i, row in enumerate(rows)]
    ),
    st.lists(st.tuples(st.integers(0, 39), st.booleans()), max_size=15),
)


def run(
    store: Store | FakeStore,
    tenant: str,
    stream: list[dict[str, Any]],
    cuts: list[int],
    close_march: bool,
) -> tuple[Any, ...]:
    if close_march:
        with store.unit_of_work(tenant) as uow:
            uow.period_closes.add(PeriodClose("s", "cus_a", MARCH, APRIL, "invoice", None, 0))
            uow.commit()
    outcomes = []
    for batch in split(stream, cuts):
        with store.unit_of_work(tenant) as uow:
            result = ingest_batch(uow, batch, now=NOW, limits=EventLimits())
            uow.commit()
        outcomes.append(
            [
                (r.idempotency_key, r.status, r.error_code, r.late, r.late_after_close)
                for r in result.results
            ]
        )
    accepted = [key for batch in outcomes for key, status, *_ in batch if status == "accepted"]
    with store.unit_of_work(tenant) as uow:
        flags = [
            (e.idempotency_key, e.late, e.late_after_close)
            for e in map(uow.events.get, accepted)
            if e is not None
        ]
        booked = sorted(
            (
                a.metric,
                a.customer_ref,
                a.period_start_us,
                a.delta.normalize(),
                a.reason,
                a.event_key,
                a.source_period_start_us,
            )
            for a in uow.adjustments.find()
        )
        tallies = uow.ingest_tallies.sums(0)
    return outcomes, flags, counters(store, tenant), booked, tallies


@SETTINGS
@given(
    stream=streams,
    cuts=st.lists(st.integers(0, 100), min_size=1, max_size=5),
    close_march=st.booleans(),
)
def test_fake_sqlite_and_postgresql_give_the_same_outcomes_and_counters(
    both_stores: list[Store], stream: list[dict[str, Any]], cuts: list[int], close_march: bool
) -> None:
    fake = FakeStore()
    fake.add_tenant("same", NOW, METRICS)
    expected = run(fake, "same", stream, cuts, close_march)
    for opened in both_stores:
        tenant = f"same{uuid.uuid4().hex[:8]}"
        make_tenant(opened, tenant, NOW, METRICS)
        assert run(opened, tenant, stream, cuts, close_march) == expected
