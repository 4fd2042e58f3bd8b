"""BackfillsRepository: add, get, save, several at once, find by status and metric."""

from __future__ import annotations

from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def session(
    backfill_id: str, created_us: int, status: str = "open", metric: str = "calls"
) -> BackfillRecord:
    return BackfillRecord(
        backfill_id, metric, ("cus_1", "cus_2"), 10, 20, status, "why", "key_1", created_us
    )


def test_a_session_reads_back_as_added(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.backfills.add(session("bf_1", 5))
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.backfills.get("bf_1", lock=True)
        plain = uow.backfills.get("bf_1")
    assert locked == plain == session("bf_1", 5)


def test_save_keeps_the_changes(any_store: AnyStore) -> None:
    closed = session("bf_1", 5).with_changes(
        status="closed", closed_by="key_2", closed_us=9, report='{"events":3}'
    )
    with any_store.unit_of_work(TENANT) as uow:
        uow.backfills.add(session("bf_1", 5))
        uow.backfills.save(closed)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert uow.backfills.get("bf_1") == closed


def test_get_shared_answers_the_known_ids(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.backfills.add(session("bf_1", 5))
        uow.backfills.add(session("bf_2", 6))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert sorted(uow.backfills.get_shared(["bf_2", "bf_9", "bf_1"])) == ["bf_1", "bf_2"]


def test_find_filters_in_creation_order(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.backfills.add(session("bf_c", 7, "closed"))
        uow.backfills.add(session("bf_a", 5))
        uow.backfills.add(session("bf_b", 6, metric="gb"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        every = [b.backfill_id for b in uow.backfills.find()]
        still_open = [b.backfill_id for b in uow.backfills.find(statuses=["open"])]
        calls = [b.backfill_id for b in uow.backfills.find(metric="calls")]
    assert (every, still_open, calls) == (
        ["bf_a", "bf_b", "bf_c"],
        ["bf_a", "bf_b"],
        ["bf_a", "bf_c"],
    )
