"""Cost projection for a customer's current billing period (``POST /v1/usage/projection``).

The arithmetic is the domain's (``project_line``, ``quote``); this module only gathers the
inputs in one read transaction: the current value of each metric, its effective price, and
the credits booked in the period. See ADR 0201 for how credits are priced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.money import zero_amount
from stripemeter_server.domain.pricing import Price, Quote
from stripemeter_server.domain.projection import ProjectionLine, project_line
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.prices import cost_of, effective_prices
from stripemeter_server.service.corrections.backfills import open_sessions_for
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.usage.ports import UsageUnitOfWork as UnitOfWork
from stripemeter_server.service.usage.reads import PeriodUsage, current_usage

CREDIT_REASON = "credit"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MetricProjection:
    usage: PeriodUsage
    price: Price | None
    line: ProjectionLine
    credited_quantity: Decimal
    current_quantity: Decimal | None
    projected_quantity: Decimal | None
    current_cost: Quote | None
    projected_cost: Quote | None
    gross_current_cost: Quote | None
    gross_projected_cost: Quote | None

    @property
    def credit_amount(self) -> Decimal | None:
        """Money the credits take off the projected charge (zero or negative)."""
        if self.projected_cost is None or self.gross_projected_cost is None:
            return None
        return self.projected_cost.amount - self.gross_projected_cost.amount


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    current_total: Decimal
    subtotal: Decimal
    projected_subtotal: Decimal
    credits: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Projection:
    customer_ref: str
    as_of: datetime
    metrics: list[MetricProjection]
    totals: list[Totals]

    @property
    def period_start(self) -> datetime | None:
        return min((m.usage.period.start for m in self.metrics), default=None)

    @property
    def period_end(self) -> datetime | None:
        return max((m.usage.period.end for m in self.metrics), default=None)


def credited_quantity(adjustments: list[AdjustmentRecord], period_start_us: int) -> Decimal:
    """Units taken off by ``credit`` adjustments in the period (reverted credits excluded)."""
    credit_adjustments = {
        a.adjustment_id: a
        for a in adjustments
        if a.reason == CREDIT_REASON and a.period_start_us == period_start_us
    }
    delta = sum((a.delta for a in credit_adjustments.values()), ZERO)
    delta += sum((a.delta for a in adjustments if a.reverts in credit_adjustments), ZERO)
    return max(-delta, ZERO)


def _non_negative(value: Decimal | None) -> Decimal | None:
    return None if value is None else max(value, ZERO)


def _project(
    usage: PeriodUsage, price: Price | None, credited: Decimal, now: datetime
) -> MetricProjection:
    """Project the usage *before* credits (a credit is a one-off, not a run rate), then take
    the credited units off the projected quantity and price both."""
    net = usage.value
    gross = None if net is None and not credited else (net or ZERO) + credited
    line = project_line(
        price,
        usage.metric.aggregation.value,
        _non_negative(gross),
        usage.period.start,
        usage.period.end,
        now,
    )
    projected_net = (
        None if line.projected_quantity is None else max(line.projected_quantity - credited, ZERO)
    )
    if net is None and not credited:
        projected_net = None
    return MetricProjection(
        usage=usage,
        price=price,
        line=line,
        credited_quantity=credited,
        current_quantity=net,
        projected_quantity=projected_net,
        current_cost=cost_of(price, net),
        projected_cost=cost_of(price, projected_net),
        gross_current_cost=line.current_cost,
        gross_projected_cost=line.projected_cost,
    )


def _totals(metrics: list[MetricProjection]) -> list[Totals]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 5)
    for item in metrics:
        if item.price is None:
            continue
        assert item.current_cost and item.gross_current_cost and item.gross_projected_cost
        row = sums[item.price.currency]
        row[0] += item.current_cost.amount
        row[1] += item.gross_current_cost.amount
        row[2] += item.gross_projected_cost.amount
        row[3] += item.credit_amount or ZERO
    out = []
    for currency, (current, subtotal, projected, credited, _) in sorted(sums.items()):
        zero = zero_amount(currency)
        out.append(
            Totals(
                currency,
                current + zero,
                subtotal + zero,
                projected + zero,
                credited + zero,
                projected + credited + zero,
            )
        )
    return out


def project_customer(
    uow: UnitOfWork,
    customer_ref: str,
    now: datetime,
    metric_code: str | None = None,
    only: frozenset[str] | None = None,
) -> Projection:
    """Every metric's (or one metric's) current and projected quantity and cost; ``only``
    keeps the listed metrics, totals included (a portal token limited to some metrics)."""
    usages = current_usage(uow, customer_ref, now, metric_code)
    if only is not None:
        usages = [u for u in usages if u.metric.code in only]
    prices = effective_prices(uow, customer_ref)
    adjustments = uow.adjustments.find(metric=metric_code, customer_ref=customer_ref)
    by_metric: dict[str, list[AdjustmentRecord]] = defaultdict(list)
    for record in adjustments:
        by_metric[record.metric].append(record)
    metrics = [
        _project(
            usage,
            prices.get(usage.metric.code),
            credited_quantity(by_metric[usage.metric.code], to_micros(usage.period.start)),
            now,
        )
        for usage in usages
    ]
    return Projection(customer_ref, now, metrics, _totals(metrics))


def current_costs(
    uow: UnitOfWork, customer_ref: str, usages: list[PeriodUsage]
) -> dict[str, Quote | None]:
    """The current cost of each listed metric (``None`` where the metric has no price)."""
    prices = effective_prices(uow, customer_ref)
    return {u.metric.code: cost_of(prices.get(u.metric.code), u.value) for u in usages}


def current_with_costs(
    uow: UnitOfWork, customer_ref: str, now: datetime, metric: str | None
) -> tuple[list[PeriodUsage], dict[str, Quote | None], list[BackfillRecord]]:
    """What a current-usage read shows, from one snapshot: each metric's open period, its
    cost, and the backfill sessions whose events these values do not include yet."""
    found = current_usage(uow, customer_ref, now, metric)
    return (
        found,
        current_costs(uow, customer_ref, found),
        open_sessions_for(uow, customer_ref, metric),
    )
