"""Every feature of the tenant as one customer may use it, in two reads whatever the number
of features (ADR 0937): every feature with the customer's grant, its metric and the
customer's record, then every metered window's counter, extras and held reservations.

Each answer is the one ``access.access_for`` gives for the feature (the same domain rules
on the same rows, read in the same transaction): only where the reads come from differs.
A feature with a filter or a window of its own still folds its window's events, and a
grant that stops at zero credit still reads the credit's burn-down, each on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.entitlement_parsing import CODE
from stripemeter_server.domain.entitlements import (
    Access,
    Feature,
    Grant,
    MeteredState,
    Reason,
    evaluate,
)
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.periods import Period, period_containing
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import decode_metric
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.entitlements.features import decode_feature
from stripemeter_server.service.entitlements.ports import (
    BalanceWindow,
    FeatureView,
    WindowBalance,
)
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.usage import (
    counts_live,
    credit_exhausted,
    folded_state,
    measured,
    window_specs,
)


@dataclass(frozen=True, slots=True)
class _Measured:
    """A measured feature's metric and usage window; ``live``: its counter is the usage."""

    metric: Metric
    window: Period
    live: bool


@dataclass(frozen=True, slots=True)
class _Row:
    feature: Feature
    grant: Grant | None
    measure: _Measured | None  # None: no usage to read (or its metric no longer exists)


def check_all(uow: UnitOfWork, customer_ref: str, now: datetime) -> list[Access]:
    """Every feature of the tenant (by key), as this customer may use it."""
    check_identifier(customer_ref, "customerRef", code=CODE)
    found = uow.grants.views(customer_ref)
    rows = [_row(view, found.customer, now) for view in found.features]
    windows = [
        BalanceWindow(
            r.feature.key, r.measure.metric.code, to_micros(r.measure.window.start), r.measure.live
        )
        for r in rows
        if r.measure is not None
    ]
    balances = uow.grants.balances(customer_ref, windows, to_micros(now)) if windows else {}
    return [_access(uow, r, balances.get(r.feature.key), now) for r in rows]


def _row(view: FeatureView, customer: CustomerRecord | None, now: datetime) -> _Row:
    feature = decode_feature(view.feature.key, view.feature.definition)
    grant = view.grant.grant if view.grant is not None else None
    if grant is None or view.metric is None or not measured(feature, grant, now):
        return _Row(feature, grant, None)
    metric = decode_metric(view.metric)
    spec, billing = window_specs(feature, metric, customer)
    window = period_containing(spec, now)
    return _Row(feature, grant, _Measured(metric, window, counts_live(feature, spec, billing)))


def _access(uow: UnitOfWork, row: _Row, balance: WindowBalance | None, now: datetime) -> Access:
    feature, grant, measure = row.feature, row.grant, row.measure
    if grant is None or not measured(feature, grant, now):
        return evaluate(feature, grant, now)
    if measure is None or balance is None:  # the feature's metric no longer exists
        return Access(feature, False, Reason.METRIC_NOT_FOUND)
    metric, window = measure.metric, measure.window
    if measure.live:
        state = balance.counter if balance.counter is not None else CounterState()
    else:
        state = folded_state(uow, feature, metric, grant.customer_ref, window)
    usage = state.value(metric.aggregation) or ZERO
    held = MeteredState(
        usage,
        balance.held,
        balance.extras,
        window.start,
        window.end,
        credit_exhausted(uow, feature, grant, now),
    )
    return evaluate(feature, grant, now, held)
