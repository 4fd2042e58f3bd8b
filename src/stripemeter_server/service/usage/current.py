"""Current usage (ADR 0941) and billing periods (ADR 0961) from one statement's inputs.

``projection.current_with_costs`` reads its inputs through seven repository calls; here the
store hands them over at once (``CurrentReads.current_inputs``, the key stamp included) and
the same functions turn them into the same answer: ``reads.usage_now`` for the periods and
their closes, ``prices.resolve_prices`` for the costs, the open sessions filtered as
``backfills.open_sessions_for`` filters them. ``GET /v1/usage/periods`` likewise: its five
reads (metric, customer, counters, closes, sessions) as one (``CurrentReads.period_inputs``),
turned into the answer by ``reads.periods_of``, as ``reads.billing_periods`` does.
``GET /v1/usage/history``'s metric and customer record likewise, before the ledger's totals
(``CurrentReads.history_inputs``, ADR 0967), then ``reads.history_points``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from stripemeter_server.domain.pricing import Quote
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import decode_metric
from stripemeter_server.service.catalog.metrics import metric_not_found
from stripemeter_server.service.catalog.prices import cost_of, resolve_prices
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.ports.current_reads import (
    CurrentInputs,
    HistoryInputs,
    PeriodInputs,
)
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.usage.ports import UsageUnitOfWork
from stripemeter_server.service.usage.reads import (
    CloseKey,
    HistoryPoint,
    PeriodUsage,
    check_history,
    history_points,
    periods_of,
    usage_now,
)


async def current_inputs_on_loop(
    store: Store, tenant_id: str, customer_ref: str, now: datetime
) -> CurrentInputs | None:
    """Current usage's inputs awaited on the event loop where the store can (PostgreSQL,
    ADR 0971); ``None``: read them through a unit of work (``CurrentReads``)."""
    reads = store.loop_reads()
    if reads is None:
        return None
    return await reads.current_inputs(tenant_id, customer_ref, to_micros(now))


CurrentAnswer = tuple[list[PeriodUsage], dict[str, Quote | None], list[BackfillRecord]]
PeriodsAnswer = tuple[list[PeriodUsage], list[BackfillRecord]]


def current_from(
    inputs: CurrentInputs, customer_ref: str, now: datetime, metric: str | None
) -> CurrentAnswer:
    """What ``projection.current_with_costs`` returns, from ``inputs``: each metric's (or
    ``metric``'s) open period with its cost, and the sessions these values do not include."""
    metrics = {code: decode_metric(text) for code, text in inputs.metrics.items()}
    if metric is not None:
        if metric not in metrics:
            raise metric_not_found(metric)
        metrics = {metric: metrics[metric]}
    find_closes = _close_lookup(inputs.closes)
    found = usage_now(metrics, inputs.customer, inputs.counters, find_closes, customer_ref, now)
    prices = resolve_prices(inputs.prices)
    costs = {u.metric.code: cost_of(prices.get(u.metric.code), u.value) for u in found}
    held = [
        r
        for r in inputs.backfills
        if (metric is None or r.metric == metric)
        and (r.customers is None or customer_ref in r.customers)
    ]
    return found, costs, held


def _close_lookup(
    closes: list[PeriodClose],
) -> Callable[[list[CloseKey]], dict[CloseKey, PeriodClose]]:
    """``PeriodClosesRepository.find_many`` over closes already read."""
    by_key = {(c.metric, c.customer_ref, c.period_start_us): c for c in closes}

    def find_closes(keys: list[CloseKey]) -> dict[CloseKey, PeriodClose]:
        return {key: by_key[key] for key in keys if key in by_key}

    return find_closes


def periods_from(
    inputs: PeriodInputs,
    customer_ref: str,
    metric: str,
    span: tuple[datetime, datetime],
    now: datetime,
) -> PeriodsAnswer:
    """What ``billing_periods`` and ``open_sessions_for`` return, from ``inputs``."""
    if inputs.metric is None:
        raise metric_not_found(metric)
    found = periods_of(
        decode_metric(inputs.metric),
        inputs.customer,
        inputs.counters,
        _close_lookup(inputs.closes),
        customer_ref,
        span,
        now,
    )
    held = [r for r in inputs.backfills if r.customers is None or customer_ref in r.customers]
    return found, held


def history_from(
    uow: UsageUnitOfWork,
    inputs: HistoryInputs,
    customer_ref: str,
    metric: str,
    window: tuple[datetime, datetime],
    step: str,
    group_by: str | None,
) -> list[HistoryPoint]:
    """What ``reads.usage_history`` returns, its metric and the customer's record from
    ``inputs``: the parameters judged first, then the metric's 404, as there."""
    check_history(step, group_by, *window)
    if inputs.metric is None:
        raise metric_not_found(metric)
    definition = decode_metric(inputs.metric)
    return history_points(uow, definition, inputs.customer, customer_ref, window, step, group_by)
