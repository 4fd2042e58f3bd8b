"""``fold_events_before``: one pass over the events gives, for each cutoff, exactly what
``fold_events`` gives for the events before it (the credit burn a day and a week ago reads
the ledger once, ADR 0880)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.metrics import Aggregation, Metric
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.service.usage.reads import fold_events, fold_events_before

# (ts, quantity, resource): out of ts order, a repeated resource across the cutoffs
EVENTS = [
    (50, "4", "r1"),
    (10, "2", "r2"),
    (70, "9", "r1"),
    (30, "1.5", "r3"),
    (90, "7", "r2"),
    (60, "3", "r4"),
]
CUTOFFS = [65, 35, 100, 10]


def _events() -> list[StoredEvent]:
    return [
        StoredEvent(n, f"k{n}", "m", "c", Decimal(q), ts, ts, res, None, False, False, None)
        for n, (ts, q, res) in enumerate(EVENTS)
    ]


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_each_cutoff_folds_as_its_own_filtered_fold(aggregation: Aggregation) -> None:
    metric = Metric("m", aggregation)
    states = fold_events_before(metric, _events(), CUTOFFS)
    expected = [
        fold_events(metric, [e for e in _events() if e.ts_us < cutoff]).value(aggregation)
        for cutoff in CUTOFFS
    ]
    assert [s.value(aggregation) for s in states] == expected
    assert expected[2] != expected[3]  # the cutoffs do cut
