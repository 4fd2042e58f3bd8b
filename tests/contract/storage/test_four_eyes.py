"""Four-eyes mode on SQLite and PostgreSQL: adjustments and backfill closes wait for a
second key; approvals count, rejections never do, and each decision is recorded once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ConflictError, ForbiddenError
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.corrections.adjustments import create_adjustment, revert_adjustment
from stripemeter_server.service.corrections.approvals import decide_adjustment
from stripemeter_server.service.corrections.commands import adjustment_command
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.storage.unit_of_work import Store
from tests.support.backfill import close, current, decide, four_eyes, open_session
from tests.support.ledger import ingest, make_tenant


@pytest.fixture
def acme(store: Store, clock: FrozenClock) -> Store:
    make_tenant(store, "acme", clock.now(), [{"code": "calls", "aggregation": "sum"}])
    ingest(
        store,
        "acme",
        [
            {
                "metric": "calls",
                "customerRef": "cus_1",
                "quantity": "10",
                "ts": "2025-01-05T00:00:00Z",
            }
        ],
        clock.now(),
    )
    four_eyes(store, "acme", clock.now())
    return store


def adjust(store: Store, now: datetime, delta: str = "-3") -> AdjustmentRecord:
    with store.unit_of_work("acme") as uow:
        record = create_adjustment(
            uow,
            adjustment_command(
                metric="calls",
                customer_ref="cus_1",
                delta_raw=delta,
                reason="credit",
                note=None,
                at=None,
            ),
            actor="key_a",
            now=now,
        )
        uow.commit()
    return record


def decide_adj(
    store: Store, adjustment_id: str, decision: str, actor: str, now: datetime
) -> AdjustmentRecord:
    with store.unit_of_work("acme") as uow:
        record = decide_adjustment(uow, adjustment_id, decision, actor, now)
        uow.commit()
    return record


def test_a_pending_adjustment_does_not_count(acme: Store, clock: FrozenClock) -> None:
    record = adjust(acme, clock.now())
    assert record.status == "pending"
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(10)


def test_an_approved_adjustment_counts(acme: Store, clock: FrozenClock) -> None:
    record = adjust(acme, clock.now())
    assert (
        decide_adj(acme, record.adjustment_id, "approved", "key_b", clock.now()).status
        == "approved"
    )
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(7)


def test_the_requesting_key_cannot_approve_its_own_adjustment(
    acme: Store, clock: FrozenClock
) -> None:
    record = adjust(acme, clock.now())
    with pytest.raises(ForbiddenError):
        decide_adj(acme, record.adjustment_id, "approved", "key_a", clock.now())


def test_a_rejected_adjustment_never_counts_nor_can_be_approved_later(
    acme: Store, clock: FrozenClock
) -> None:
    record = adjust(acme, clock.now())
    decide_adj(acme, record.adjustment_id, "rejected", "key_b", clock.now())
    with pytest.raises(ConflictError):
        decide_adj(acme, record.adjustment_id, "approved", "key_c", clock.now())
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(10)


def test_the_decision_is_recorded_with_who_asked_and_who_decided(
    acme: Store, clock: FrozenClock
) -> None:
    record = adjust(acme, clock.now())
    decide_adj(acme, record.adjustment_id, "approved", "key_b", clock.now())
    with acme.unit_of_work("acme", read_only=True) as uow:
        approval = uow.approvals.get(record.adjustment_id)
    assert approval is not None
    assert (approval.requested_by, approval.decided_by, approval.decision) == (
        "key_a",
        "key_b",
        "approved",
    )


def test_a_pending_adjustment_cannot_be_reverted(acme: Store, clock: FrozenClock) -> None:
    record = adjust(acme, clock.now())
    with acme.unit_of_work("acme") as uow, pytest.raises(ConflictError) as caught:
        revert_adjustment(uow, record.adjustment_id, "key_a", clock.now())
    assert caught.value.code == "not_approved"


def test_a_backfill_close_waits_for_a_second_key(acme: Store, clock: FrozenClock) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(
        acme,
        "acme",
        [
            {
                "metric": "calls",
                "customerRef": "cus_1",
                "quantity": "5",
                "ts": "2025-01-06T00:00:00Z",
                "backfillId": bf,
            }
        ],
        clock.now(),
    )
    assert close(acme, "acme", bf, clock.now()).record.status == "pending"
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(10)
    assert decide(acme, "acme", bf, "approved", "key_b", clock.now()).record.status == "closed"
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(15)


def test_a_rejected_backfill_close_never_counts(acme: Store, clock: FrozenClock) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(
        acme,
        "acme",
        [
            {
                "metric": "calls",
                "customerRef": "cus_1",
                "quantity": "5",
                "ts": "2025-01-06T00:00:00Z",
                "backfillId": bf,
            }
        ],
        clock.now(),
    )
    close(acme, "acme", bf, clock.now())
    assert decide(acme, "acme", bf, "rejected", "key_b", clock.now()).record.status == "rejected"
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(10)


def test_the_closing_key_cannot_approve_its_own_backfill_close(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    close(acme, "acme", bf, clock.now())
    with pytest.raises(ForbiddenError):
        decide(acme, "acme", bf, "approved", "key_a", clock.now())
