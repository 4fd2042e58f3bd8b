"""PeriodClosesRepository: a period is closed once; lookups by key and by filter."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def close(metric: str, customer: str, start: int, value: str | None = "3") -> PeriodClose:
    return PeriodClose(
        metric,
        customer,
        start,
        start + 10,
        "invoice",
        None if value is None else Decimal(value),
        50,
    )


def test_a_period_closes_once(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.period_closes.add(close("calls", "cus_1", 100))
        again = uow.period_closes.add(close("calls", "cus_1", 100, "9"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.period_closes.find_many([("calls", "cus_1", 100)])
    assert (first, again, kept) == (
        True,
        False,
        {("calls", "cus_1", 100): close("calls", "cus_1", 100)},
    )


def test_find_many_answers_only_the_closed_keys(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.period_closes.add(close("calls", "cus_1", 100, None))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.period_closes.find_many([("calls", "cus_1", 100), ("calls", "cus_1", 200)])
    assert list(found) == [("calls", "cus_1", 100)]


def test_find_filters_by_metric_and_customer(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for metric, customer in (("calls", "cus_1"), ("calls", "cus_2"), ("gb", "cus_1")):
            uow.period_closes.add(close(metric, customer, 100))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        calls = sorted(c.customer_ref for c in uow.period_closes.find(metric="calls"))
        cus_1 = sorted(c.metric for c in uow.period_closes.find(customer_ref="cus_1"))
    assert (calls, cus_1) == (["cus_1", "cus_2"], ["calls", "gb"])
