"""The live burn-down: every priced period total drawn from the customer's grants.

Nothing is stored per event: the counters the ingest transaction keeps are the usage, the
prices are the pricing engine's, and the draw order is the domain's (``domain/credits.py``).
So the burn is exact and the same however, in whatever order and batches, the usage
arrived, late events and adjustments included (they are in the counters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from stripemeter_server.domain.credits import (
    CreditGrant,
    CreditPool,
    PeriodBurn,
    PeriodTotal,
    burn,
)
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.pricing import Price
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.catalog.definitions import decode_metric
from stripemeter_server.service.catalog.prices import effective_prices, resolve_prices
from stripemeter_server.service.credits.ports import CreditsUnitOfWork as UnitOfWork
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ports.billing_reads import BillingInputs
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.usage.reads import fold_events_before


@dataclass(frozen=True, slots=True)
class BurnDown:
    as_of: datetime
    grants: list[CreditGrant]
    pool: CreditPool
    periods: list[PeriodBurn]
    # What the burn was priced and measured with, read once in its transaction: the burns
    # before a day and a week ago (``burn_before``) reuse them instead of reading them again.
    prices: dict[str, Price] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)


def _drawing_codes(grants: list[CreditGrant], prices: dict[str, Price]) -> list[str]:
    """The metrics the grants may draw for: their units, and those priced in a grant's
    currency."""
    codes = {g.unit for g in grants if g.unit is not None}
    currencies = {g.currency for g in grants if g.currency is not None}
    codes |= {code for code, price in prices.items() if price.currency in currencies}
    return sorted(codes)


def _metrics(
    uow: IngestUnitOfWork,
    grants: list[CreditGrant],
    prices: dict[str, Price],
    loaded: dict[str, Metric] | None,
) -> dict[str, Metric]:
    """The drawing metrics' definitions. ``loaded``: every metric of the tenant, when the
    caller read them already."""
    codes = _drawing_codes(grants, prices)
    if loaded is not None:
        return {code: loaded[code] for code in codes if code in loaded}
    found = {}
    for code in codes:
        text = uow.metrics.get(code)
        if text is not None:
            found[code] = decode_metric(text)
    return found


def period_totals(
    uow: IngestUnitOfWork,
    customer_ref: str,
    metrics: dict[str, Metric],
    since: datetime,
    until: datetime,
) -> list[PeriodTotal]:
    """Each stored period of the metrics that bills in [since, until] (ends after ``since``
    and starts before ``until``), with its live value."""
    out = []
    for code, metric in metrics.items():
        found = uow.counters.find(
            customer_ref=customer_ref, metric=code, start_before_us=to_micros(until)
        )
        out += [_total(code, metric, c) for c in found if c.period_end_us > to_micros(since)]
    return out


def _total(code: str, metric: Metric, counter: StoredCounter) -> PeriodTotal:
    return PeriodTotal(
        code,
        from_micros(counter.period_start_us),
        from_micros(counter.period_end_us),
        counter.state.value(metric.aggregation) or ZERO,
    )


def burn_down(
    uow: IngestUnitOfWork,
    customer_ref: str,
    now: datetime,
    *,
    prices: dict[str, Price] | None = None,
    metrics: dict[str, Metric] | None = None,
) -> BurnDown:
    """The customer's grants and what the usage up to ``now`` drew from each (the ingest
    transaction's unit of work is enough: credit alerts read it there). ``prices`` (the
    customer's effective prices) and ``metrics`` (every metric of the tenant): when the
    caller read them in the same transaction already, so they are not read twice."""
    grants = uow.credit_grants.for_customer(customer_ref)
    if prices is None:
        prices = effective_prices(uow, customer_ref)
    pool = CreditPool(list(grants))
    if not grants:
        return BurnDown(now, grants, pool, [], prices)
    since = min(g.effective_at for g in grants)
    drawing = _metrics(uow, grants, prices, metrics)
    totals = period_totals(uow, customer_ref, drawing, since, now)
    return BurnDown(now, grants, pool, burn(pool, totals, prices, now), prices, drawing)


def burn_from(inputs: BillingInputs, now: datetime) -> BurnDown:
    """``burn_down`` from the inputs read in one statement (ADR 0948): the same grants,
    prices, drawing metrics and counters (``inputs.burning`` holds exactly the counters
    ``period_totals`` keeps, of every metric), so the same answer."""
    grants, prices = inputs.grants, resolve_prices(inputs.prices)
    pool = CreditPool(list(grants))
    if not grants:
        return BurnDown(now, grants, pool, [], prices)
    stored = inputs.metrics
    drawing = {c: decode_metric(stored[c]) for c in _drawing_codes(grants, prices) if c in stored}
    by_metric: dict[str, list[StoredCounter]] = {}
    for counter in inputs.burning:  # the repository's order: by metric, then period start
        by_metric.setdefault(counter.metric, []).append(counter)
    totals = [_total(k, m, c) for k, m in drawing.items() for c in by_metric.get(k, [])]
    return BurnDown(now, grants, pool, burn(pool, totals, prices, now), prices, drawing)


def burns_before(
    uow: UnitOfWork, customer_ref: str, current: BurnDown, thens: list[datetime]
) -> list[CreditPool]:
    """What the usage recorded before each of ``thens`` had drawn at it. Periods open at a
    cutoff are folded from the ledger up to it (the counters hold only the latest value):
    each such period is read once for all its cutoffs (ADR 0880). The prices and metrics
    are the ones ``current`` was burned with (same transaction)."""
    totals: list[list[PeriodTotal]] = [[] for _ in thens]
    for item in current.periods:
        total = item.total
        open_at = [t for t in thens if total.period_start < t < total.period_end]
        folded = _values_before(uow, customer_ref, current.metrics[total.metric], total, open_at)
        for found, then in zip(totals, thens, strict=True):
            if total.period_start >= then:
                continue
            if then in folded:
                total_then = PeriodTotal(
                    total.metric, total.period_start, total.period_end, folded[then]
                )
                found.append(total_then)
            else:
                found.append(total)
    pools = []
    for found, then in zip(totals, thens, strict=True):
        pool = CreditPool(list(current.grants))
        burn(pool, found, current.prices, then)
        pools.append(pool)
    return pools


def _values_before(
    uow: UnitOfWork,
    customer_ref: str,
    metric: Metric,
    total: PeriodTotal,
    thens: list[datetime],
) -> dict[datetime, Decimal]:
    """The period's value at each of ``thens`` (inside it), from one read of its events up
    to the latest of them."""
    if not thens:
        return {}
    cutoffs = [to_micros(then) for then in thens]
    states = fold_events_before(
        metric,
        uow.events.stream(
            EventFilter(
                metric=metric.code,
                customer_ref=customer_ref,
                ts_from_us=to_micros(total.period_start),
                ts_to_us=max(cutoffs),
                only_counting=True,
            )
        ),
        cutoffs,
    )
    return {
        then: state.value(metric.aggregation) or ZERO
        for then, state in zip(thens, states, strict=True)
    }


def drawn_by_denomination(pool: CreditPool) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for grant in pool.grants:
        out[grant.denomination] = out.get(grant.denomination, ZERO) + pool.drawn[grant.grant_id]
    return out


DAY = timedelta(days=1)
WEEK = timedelta(days=7)
