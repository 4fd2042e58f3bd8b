"""The plan's changed-counter scan reads only the state columns the metric's aggregation
needs (ADR 0973): the value it yields is the whole state's, for every aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.metrics import Aggregation
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

STATE = CounterState(
    count=3,
    sum=Decimal("7.5"),
    max=Decimal("4"),
    min=Decimal("0.5"),
    latest_value=Decimal("3"),
    latest_ts_us=40,
    latest_key="k3",
    unique_count=2,
    adjustments=Decimal("1.25"),
    late_out=Decimal("0.5"),
    watermark_us=40,
    late_count=1,
)


def _write(store: AnyStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({("calls", "cus", 0): 100}, 10)
        for counter in locked.values():
            counter.state = STATE
        uow.counters.save(locked.values(), 10)
        uow.commit()


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_a_narrow_scan_yields_the_whole_states_value(
    any_store: AnyStore, aggregation: Aggregation
) -> None:
    _write(any_store)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        whole = uow.pushes.changed_counters("calls", since_us=None, min_end_us=None)
        narrow = uow.pushes.changed_counters(
            "calls", since_us=None, min_end_us=None, aggregation=aggregation
        )
    assert [c.counter.state for c in whole] == [STATE]
    assert [(c.counter.customer_ref, c.updated_us) for c in narrow] == [("cus", 10)]
    assert narrow[0].counter.state.value(aggregation) == STATE.value(aggregation)
    assert narrow[0].counter.state.value(aggregation) is not None
