"""The ingest pipeline against the fake unit of work: one behaviour each, in milliseconds.

The same behaviours run on the real adapters in ``tests/contract/storage/test_ingest.py``;
``tests/contract/storage/test_fake_matches_adapters.py`` checks the fake agrees with them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.ingest.outcome import IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.runner import run_use_case
from tests.support.fake_store import FakeStore

NOW = datetime(2025, 3, 20, tzinfo=UTC)
MARCH = to_micros(datetime(2025, 3, 1, tzinfo=UTC))
APRIL = to_micros(datetime(2025, 4, 1, tzinfo=UTC))
TENANT = "t1"
METRICS = [
    {"code": "calls", "aggregation": "sum"},
    {"code": "strict", "aggregation": "sum", "latePolicy": "reject"},
    {"code": "users", "aggregation": "unique_count", "uniqueProperty": "meta.user"},
]


def event(**changes: Any) -> dict[str, Any]:
    return {
        "metric": "calls",
        "customerRef": "cus_a",
        "quantity": "5",
        "ts": "2025-03-10T12:00:00Z",
        **changes,
    }


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    fake.add_tenant(TENANT, NOW, METRICS)
    return fake


def ingest(store: FakeStore, *events: dict[str, Any]) -> IngestOutcome:
    with store.unit_of_work(TENANT) as uow:
        outcome = ingest_batch(uow, list(events), now=NOW, limits=EventLimits())
        uow.commit()
    return outcome


def counter(store: FakeStore, metric: str = "calls", start_us: int = MARCH) -> StoredCounter:
    with store.unit_of_work(TENANT) as uow:
        found = uow.counters.get((metric, "cus_a", start_us))
    assert found is not None
    return found


def test_a_new_event_is_accepted_and_counted(store: FakeStore) -> None:
    outcome = ingest(store, event())
    assert [r.status for r in outcome.results] == ["accepted"]
    assert counter(store).state.sum == Decimal("5")


def test_a_replay_in_a_later_batch_is_a_duplicate_and_not_counted_again(store: FakeStore) -> None:
    ingest(store, event(idempotencyKey="k1"))
    outcome = ingest(store, event(idempotencyKey="k1"))
    assert outcome.results[0].status == "duplicate"
    assert counter(store).state.sum == Decimal("5")


def test_a_repeat_inside_one_batch_is_a_duplicate(store: FakeStore) -> None:
    outcome = ingest(store, event(idempotencyKey="k1"), event(idempotencyKey="k1"))
    assert [r.status for r in outcome.results] == ["accepted", "duplicate"]


def test_the_same_key_with_another_payload_is_a_conflict(store: FakeStore) -> None:
    ingest(store, event(idempotencyKey="k1"))
    result = ingest(store, event(idempotencyKey="k1", quantity="6")).results[0]
    assert (result.status, result.error_code) == ("conflict", "idempotency_conflict")


@pytest.mark.parametrize(
    ("broken", "code"),
    [
        ({"customerRef": None}, "missing_field"),
        ({"quantity": "x"}, "invalid_quantity"),
        ({"ts": "yesterday"}, "invalid_timestamp"),
        ({"meta": [1]}, "invalid_meta"),
    ],
)
def test_an_invalid_event_is_rejected_with_its_code(
    store: FakeStore, broken: dict[str, Any], code: str
) -> None:
    raw = {k: v for k, v in event(**broken).items() if v is not None}
    result = ingest(store, raw).results[0]
    assert (result.status, result.error_code) == ("rejected", code)


def test_an_unknown_metric_is_rejected(store: FakeStore) -> None:
    result = ingest(store, event(metric="nope")).results[0]
    assert (result.status, result.error_code, result.error_field) == (
        "rejected",
        "unknown_metric",
        "metric",
    )


def test_an_unknown_metric_is_created_when_the_tenant_auto_creates(store: FakeStore) -> None:
    store.add_tenant("auto", NOW, auto_create=True)
    with store.unit_of_work("auto") as uow:
        outcome = ingest_batch(uow, [event(metric="fresh")], now=NOW, limits=EventLimits())
        assert uow.metrics.get("fresh") is not None
    assert outcome.results[0].status == "accepted"


def test_an_event_older_than_the_watermark_is_late(store: FakeStore) -> None:
    ingest(store, event(idempotencyKey="new", ts="2025-03-12T00:00:00Z"))
    result = ingest(store, event(idempotencyKey="old", ts="2025-03-11T00:00:00Z")).results[0]
    with store.unit_of_work(TENANT) as uow:
        stored = uow.events.get("old")
    assert (result.late, stored is not None and stored.late) == (True, True)


def close_march(store: FakeStore, metric: str) -> None:
    with store.unit_of_work(TENANT) as uow:
        uow.period_closes.add(PeriodClose(metric, "cus_a", MARCH, APRIL, "invoice", None, 0))
        uow.commit()


def test_an_event_for_a_closed_period_moves_its_effect_to_the_open_one(store: FakeStore) -> None:
    close_march(store, "calls")
    result = ingest(store, event()).results[0]
    assert (result.status, result.late_after_close) == ("accepted", True)
    assert counter(store).state.late_out == Decimal("5")
    assert counter(store, start_us=APRIL).state.adjustments == Decimal("5")


def test_a_late_after_close_event_books_an_adjustment(store: FakeStore) -> None:
    close_march(store, "calls")
    ingest(store, event(idempotencyKey="k1"))
    with store.unit_of_work(TENANT) as uow:
        booked = uow.adjustments.find()
    assert [(a.reason, a.event_key, a.period_start_us, a.delta) for a in booked] == [
        ("late_event", "k1", APRIL, Decimal("5"))
    ]


def test_a_closed_period_refuses_events_under_the_reject_policy(store: FakeStore) -> None:
    close_march(store, "strict")
    result = ingest(store, event(metric="strict")).results[0]
    assert (result.status, result.error_code) == ("rejected", "period_closed")


def test_unique_count_counts_each_value_once(store: FakeStore) -> None:
    ingest(
        store,
        *[
            event(metric="users", idempotencyKey=f"k{i}", meta={"user": user})
            for i, user in enumerate(["ann", "bob", "ann"])
        ],
    )
    assert counter(store, "users").state.unique_count == 2


def test_a_unit_of_work_left_without_commit_stores_nothing(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        ingest_batch(uow, [event()], now=NOW, limits=EventLimits())
    with store.unit_of_work(TENANT) as uow:
        assert uow.counters.find() == []


def hide_first_lookup(uow: Any) -> None:
    """The ledger check of this unit of work misses every key once: as if a racing writer
    stored them between the check and the insert."""
    lookup, calls = uow.events.fingerprints, []

    def fingerprints(keys: Any) -> dict[str, str]:
        calls.append(keys)
        return {} if len(calls) == 1 else lookup(keys)

    uow.events.fingerprints = fingerprints


def test_a_key_stored_by_a_racing_writer_reruns_the_group(store: FakeStore) -> None:
    ingest(store, event(idempotencyKey="k1"))
    with store.unit_of_work(TENANT) as uow:
        hide_first_lookup(uow)
        with pytest.raises(RetryableConflict):
            ingest_batch(uow, [event(idempotencyKey="k1")], now=NOW, limits=EventLimits())
    results = [ingest(store, event(idempotencyKey="k1")).results[0].status]
    assert (results, counter(store).state.count) == (["duplicate"], 1)


def test_a_raced_group_run_by_the_runner_is_answered_as_a_duplicate(store: FakeStore) -> None:
    ingest(store, event(idempotencyKey="k1"))
    attempts: list[int] = []

    def use_case(uow: Any) -> IngestOutcome:
        attempts.append(1)
        if len(attempts) == 1:
            hide_first_lookup(uow)
        return ingest_batch(
            uow,
            [event(idempotencyKey="k1"), event(idempotencyKey="k2")],
            now=NOW,
            limits=EventLimits(),
        )

    outcome = run_use_case(store, TENANT, use_case)
    statuses = [r.status for r in outcome.results]
    assert (statuses, len(attempts), counter(store).state.count) == (
        ["duplicate", "accepted"],
        2,
        2,
    )
