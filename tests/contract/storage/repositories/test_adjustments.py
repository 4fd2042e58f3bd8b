"""AdjustmentsRepository: add, get, set a status, find by metric, customer and reverted id
in creation order."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def adjustment(
    adjustment_id: str,
    created_us: int,
    *,
    metric: str = "calls",
    customer: str = "cus_1",
    reverts: str | None = None,
) -> AdjustmentRecord:
    return AdjustmentRecord(
        adjustment_id,
        metric,
        customer,
        100,
        Decimal("-2.5"),
        "manual",
        "a note",
        "key_1",
        "applied",
        None,
        None,
        reverts,
        created_us,
    )


def test_an_adjustment_reads_back_as_added(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.adjustments.add_many([adjustment("adj_1", 5)])
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert uow.adjustments.get("adj_1") == adjustment("adj_1", 5)


def test_set_status_changes_one_adjustment(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.adjustments.add_many([adjustment("adj_1", 5), adjustment("adj_2", 6)])
        uow.adjustments.set_status("adj_1", "reverted")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        statuses = [a.status for a in uow.adjustments.find()]
    assert statuses == ["reverted", "applied"]


def test_find_filters_in_creation_order(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.adjustments.add_many(
            [
                adjustment("adj_3", 9),
                adjustment("adj_1", 5, metric="gb"),
                adjustment("adj_2", 7, customer="cus_2"),
                adjustment("adj_4", 8, reverts="adj_3"),
            ]
        )
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        every = [a.adjustment_id for a in uow.adjustments.find()]
        calls = [a.adjustment_id for a in uow.adjustments.find(metric="calls")]
        cus_1 = [a.adjustment_id for a in uow.adjustments.find(customer_ref="cus_1")]
        undo = [a.adjustment_id for a in uow.adjustments.find(reverts="adj_3")]
    assert (every, calls, cus_1, undo) == (
        ["adj_1", "adj_2", "adj_4", "adj_3"],
        ["adj_2", "adj_4", "adj_3"],
        ["adj_1", "adj_4", "adj_3"],
        ["adj_4"],
    )
