"""A metered feature's usage window and its usage in it, from the live counters.

With no filter of its own and the metric's billing period as its window, a feature's usage
is the counter the ingest transaction keeps (exact, read-your-writes, one row read). A
filter or a fixed interval of its own folds the window's counting events from the ledger
instead, through the same fold the window queries use.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.entitlements import (
    Feature,
    FeatureKind,
    Grant,
    MeteredState,
    Reason,
    grant_reason,
)
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.periods import Period, PeriodSpec, period_containing
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import decode_metric, spec_for
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.credits.balance import credit_left_for
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.ports import GrantView
from stripemeter_server.service.usage.reads import fold_events


def measured(feature: Feature, grant: Grant, now: datetime) -> bool:
    """Whether the answer needs the grant's usage: a metered feature under a standing
    grant with a limit (any other answer is the grant's alone, or of no grant)."""
    return (
        feature.kind is FeatureKind.METERED
        and grant.limit is not None
        and grant_reason(grant, now) is Reason.OK
    )


def feature_metric(uow: UnitOfWork, feature: Feature) -> Metric:
    text = uow.metrics.get(feature.metric or "")
    if text is None:
        raise ValidationError(
            f"feature {feature.key!r} counts metric {feature.metric!r}, which no longer exists",
            code="metric_not_found",
            field="metric",
        )
    return decode_metric(text)


def _spec(
    uow: UnitOfWork,
    feature: Feature,
    metric: Metric,
    customer_ref: str,
    view: GrantView | None = None,
) -> tuple[PeriodSpec, PeriodSpec]:
    """``view``: the customer's record was read with the grant (ADR 0932), not read again."""
    customer = view.customer if view is not None else uow.customers.get(customer_ref)
    return window_specs(feature, metric, customer)


def window_specs(
    feature: Feature, metric: Metric, customer: CustomerRecord | None
) -> tuple[PeriodSpec, PeriodSpec]:
    """The spec of the feature's usage window, and the metric's billing spec."""
    billing = spec_for(metric, customer)
    return (billing if feature.reset is None else PeriodSpec(feature.reset)), billing


def counts_live(feature: Feature, spec: PeriodSpec, billing: PeriodSpec) -> bool:
    """Whether the live counter is the window's usage: no filter of the feature's own and
    the billing period as its window (else the window's events are folded)."""
    return not feature.filter and spec == billing


def folded_state(
    uow: UnitOfWork, feature: Feature, metric: Metric, customer_ref: str, window: Period
) -> CounterState:
    """The window's counting events of the customer, folded with the feature's filter."""
    scoped = replace(metric, filter=tuple(sorted(set(metric.filter) | set(feature.filter))))
    return fold_events(
        scoped,
        uow.events.stream(
            EventFilter(
                metric=metric.code,
                customer_ref=customer_ref,
                ts_from_us=to_micros(window.start),
                ts_to_us=to_micros(window.end),
                only_counting=True,
            )
        ),
    )


def usage_window(uow: UnitOfWork, feature: Feature, customer_ref: str, now: datetime) -> Period:
    """The window whose usage counts against the limit at ``now``."""
    spec, _ = _spec(uow, feature, feature_metric(uow, feature), customer_ref)
    return period_containing(spec, now)


def metered_state(
    uow: UnitOfWork,
    feature: Feature,
    grant: Grant,
    now: datetime,
    metric: Metric | None = None,
    view: GrantView | None = None,
) -> MeteredState:
    """Usage, held reservations and extra grants of the grant's current window: one read
    when the usage is the live counter (ADR 0939), three otherwise. ``metric``: the
    feature's metric when the caller read it already, ``view``: the customer's record with
    it."""
    metric = metric or feature_metric(uow, feature)
    customer_ref, now_us = grant.customer_ref, to_micros(now)
    spec, billing = _spec(uow, feature, metric, customer_ref, view)
    window = period_containing(spec, now)
    start_us = to_micros(window.start)
    if counts_live(feature, spec, billing):
        balance = uow.reservations.window_balance(
            metric.code, customer_ref, feature.key, start_us, now_us
        )
        state = balance.counter or CounterState()
        extras, reserved = balance.extras, balance.held
    else:
        state = folded_state(uow, feature, metric, customer_ref, window)
        found = uow.grants.extras(customer_ref, feature.key, start_us)
        extras = sum((e.amount for e in found), ZERO)
        reserved = uow.reservations.held_total(customer_ref, feature.key, now_us)
    return MeteredState(
        state.value(metric.aggregation) or ZERO,
        reserved,
        extras,
        window.start,
        window.end,
        credit_exhausted(uow, feature, grant, now),
    )


def credit_exhausted(uow: UnitOfWork, feature: Feature, grant: Grant, now: datetime) -> bool:
    """Only for a grant that stops at zero credit (the burn-down is read for it alone); no
    grant that could pay for the metric counts as zero."""
    if not grant.stop_at_zero_credit:
        return False
    left = credit_left_for(uow, grant.customer_ref, feature.metric or "", now)
    return left is None or left <= ZERO
