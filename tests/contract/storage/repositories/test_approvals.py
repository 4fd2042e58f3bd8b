"""ApprovalsRepository: one decision per subject, and the four-eyes policy switch."""

from __future__ import annotations

from stripemeter_server.service.corrections.ports.backfills import ApprovalRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def decision(subject: str, outcome: str = "approved") -> ApprovalRecord:
    return ApprovalRecord(subject, "adjustment", "key_1", 10, outcome, "key_2", 20, "ok")


def test_a_subject_is_decided_once(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.approvals.add(decision("adj_1"))
        again = uow.approvals.add(decision("adj_1", "rejected"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept, missing = uow.approvals.get("adj_1"), uow.approvals.get("adj_2")
    assert (first, again, kept, missing) == (True, False, decision("adj_1"), None)


def test_four_eyes_is_off_until_switched_on(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        before = uow.approvals.four_eyes()
        uow.approvals.set_four_eyes(True, "key_1", 5)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        on = uow.approvals.four_eyes()
        uow.approvals.set_four_eyes(False, "key_1", 6)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        off = uow.approvals.four_eyes()
    assert (before, on, off) == (False, True, False)
