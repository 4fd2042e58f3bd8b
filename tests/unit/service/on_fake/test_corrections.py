"""Corrections use cases (adjustments, voids, period closes, four eyes, backfills) on the
in-memory store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ConflictError, ForbiddenError, ValidationError
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.service.corrections.adjustments import (
    close_period,
    create_adjustment,
    void_event,
)
from stripemeter_server.service.corrections.approvals import decide_adjustment, set_four_eyes
from stripemeter_server.service.corrections.backfills import close_backfill, open_backfill
from stripemeter_server.service.corrections.commands import (
    adjustment_command,
    open_backfill_command,
)
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT, event, ingest


def adjust(store: FakeStore, delta: str, actor: str = "key_1") -> str:
    with store.unit_of_work(TENANT, actor=actor) as uow:
        record = create_adjustment(
            uow,
            adjustment_command(
                metric="calls",
                customer_ref="cus_a",
                delta_raw=delta,
                reason="manual",
                note=None,
                at=None,
            ),
            actor=actor,
            now=NOW,
        )
        uow.commit()
    return record.adjustment_id


def total(store: FakeStore) -> Decimal | None:
    """The billable value of cus_a's March ``calls`` (a sum)."""
    with store.unit_of_work(TENANT) as uow:
        counter = uow.counters.find(metric="calls")[0]
    return counter.state.value(Aggregation.SUM)


def test_an_adjustment_moves_the_counter(store: FakeStore) -> None:
    ingest(store, event(quantity="5"))
    adjust(store, "-2")
    assert total(store) == Decimal("3")


def test_an_adjustment_with_a_bad_delta_names_the_field(store: FakeStore) -> None:
    with pytest.raises(ValidationError) as refused:
        adjust(store, "lots")
    assert refused.value.field == "delta"


def test_a_voided_event_stops_counting(store: FakeStore) -> None:
    ingest(store, event(quantity="5", idempotencyKey="a"), event(quantity="2", idempotencyKey="b"))
    with store.unit_of_work(TENANT) as uow:
        void_event(uow, "a", NOW)
        uow.commit()
    assert total(store) == Decimal("2")


def test_an_adjustment_on_a_closed_period_is_refused(store: FakeStore) -> None:
    ingest(store, event(quantity="5"))
    with store.unit_of_work(TENANT) as uow:
        close_period(uow, "cus_a", "calls", NOW, NOW)
        uow.commit()
    with pytest.raises(ConflictError) as refused:
        adjust(store, "1")
    assert refused.value.code == "period_closed"


def test_with_four_eyes_an_adjustment_counts_only_once_another_key_approves(
    store: FakeStore,
) -> None:
    ingest(store, event(quantity="5"))
    with store.unit_of_work(TENANT) as uow:
        set_four_eyes(uow, True, "key_1", NOW)
        uow.commit()
    pending = adjust(store, "10")
    before = total(store)
    with store.unit_of_work(TENANT, actor="key_2") as uow:
        decide_adjustment(uow, pending, "approved", "key_2", NOW)
        uow.commit()
    assert (before, total(store)) == (Decimal("5"), Decimal("15"))


def test_the_requester_cannot_approve_their_own_adjustment(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        set_four_eyes(uow, True, "key_1", NOW)
        uow.commit()
    pending = adjust(store, "10")
    with store.unit_of_work(TENANT) as uow, pytest.raises(ForbiddenError):
        decide_adjustment(uow, pending, "approved", "key_1", NOW)


def test_events_held_in_a_backfill_count_once_it_closes(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        session = open_backfill(uow, open_backfill_command("calls"), "key_1", NOW)
        uow.commit()
    ingest(store, event(quantity="4", backfillId=session.backfill_id))
    with store.unit_of_work(TENANT) as uow:
        held = uow.counters.find(metric="calls")
        close_backfill(uow, session.backfill_id, "key_1", NOW)
        uow.commit()
    assert ([c.state.sum for c in held], total(store)) == ([], Decimal("4"))
