"""Prepaid credit: grants, and drawing consumption from them exactly (ADR 0901).

A grant is money (a currency, at its minor unit) or units of one metric. Consumption is a
billing period's usage: its units, then its price for the units no unit grant covered.
Each is drawn, at its billing instant, from the grants that stand then and cover it, in
priority order (lowest first), then soonest expiry, then oldest. Pure and deterministic: the
same grants and the same period totals give the same burn, however the usage arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.pricing import Price, quote

UNIT_PREFIX = "unit:"


class CreditCategory(StrEnum):
    PAID = "paid"
    PROMOTIONAL = "promotional"


def unit_denomination(metric: str) -> str:
    return UNIT_PREFIX + metric


@dataclass(frozen=True, slots=True)
class CreditGrant:
    grant_id: str
    customer_ref: str
    amount: Decimal
    denomination: str  # a currency code, or ``unit:<metric>``
    category: CreditCategory
    priority: int
    effective_at: datetime
    expires_at: datetime | None = None
    applies_to: frozenset[str] | None = None  # metrics; None: every metric
    voided_at: datetime | None = None
    idempotency_key: str = ""
    created_at: datetime | None = None

    @property
    def currency(self) -> str | None:
        return None if self.denomination.startswith(UNIT_PREFIX) else self.denomination

    @property
    def unit(self) -> str | None:
        if self.denomination.startswith(UNIT_PREFIX):
            return self.denomination.removeprefix(UNIT_PREFIX)
        return None

    def stands_at(self, instant: datetime) -> bool:
        """Effective, not expired and not voided at ``instant``."""
        if instant < self.effective_at:
            return False
        if self.expires_at is not None and instant >= self.expires_at:
            return False
        return self.voided_at is None or instant < self.voided_at

    def covers(self, denomination: str, metric: str) -> bool:
        return self.denomination == denomination and (
            self.applies_to is None or metric in self.applies_to
        )

    @property
    def draw_order(self) -> tuple[int, int, datetime, datetime, str]:
        expires = self.expires_at
        return (
            self.priority,
            0 if expires is not None else 1,
            expires or self.effective_at,
            self.effective_at,
            self.grant_id,
        )


@dataclass(frozen=True, slots=True)
class Consumption:
    """One period's charge for one metric in one denomination, due at ``instant``."""

    metric: str
    denomination: str
    amount: Decimal
    instant: datetime
    period_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class Draw:
    """What one grant gave to one consumption (an invoice's credit line sums these)."""

    grant_id: str
    metric: str
    period_start: datetime | None
    denomination: str
    amount: Decimal


@dataclass
class CreditPool:
    """Grants and what each has given so far; ``take`` draws in the house order."""

    grants: list[CreditGrant]
    drawn: dict[str, Decimal] = field(default_factory=dict)
    draws: list[Draw] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.grants = sorted(self.grants, key=lambda g: g.draw_order)
        for grant in self.grants:
            self.drawn.setdefault(grant.grant_id, ZERO)

    def remaining(self, grant: CreditGrant) -> Decimal:
        return grant.amount - self.drawn[grant.grant_id]

    def take(self, item: Consumption) -> Decimal:
        """Draw ``item`` from the grants that stand and cover it; returns what they gave
        (the rest is owed)."""
        left = item.amount
        for grant in self.grants:
            if left <= ZERO:
                break
            if not (grant.covers(item.denomination, item.metric) and grant.stands_at(item.instant)):
                continue
            given = min(self.remaining(grant), left)
            if given > ZERO:
                self.drawn[grant.grant_id] += given
                self.draws.append(
                    Draw(grant.grant_id, item.metric, item.period_start, item.denomination, given)
                )
                left -= given
        return item.amount - left

    def take_all(self, items: Iterable[Consumption]) -> Decimal:
        """Draw the items in billing order (instant, then metric); returns the total given."""
        ordered = sorted(items, key=lambda c: (c.instant, c.metric, c.denomination))
        return sum((self.take(item) for item in ordered), ZERO)

    def balance(self, denomination: str, instant: datetime) -> Decimal:
        """What the grants of ``denomination`` that stand at ``instant`` still hold."""
        return sum(
            (
                self.remaining(g)
                for g in self.grants
                if g.denomination == denomination and g.stands_at(instant)
            ),
            ZERO,
        )


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """A billing period's usage value for one metric (the counter's value)."""

    metric: str
    period_start: datetime
    period_end: datetime
    value: Decimal


@dataclass(frozen=True, slots=True)
class PeriodBurn:
    total: PeriodTotal
    instant: datetime
    units_drawn: Decimal  # units taken off by unit grants of the metric
    cost: Decimal | None  # the price of the rest (None: the metric has no price)
    currency: str | None
    money_drawn: Decimal


def burn(
    pool: CreditPool, totals: Iterable[PeriodTotal], prices: Mapping[str, Price], now: datetime
) -> list[PeriodBurn]:
    """Draw every period's usage from ``pool``, in billing order. A period bills at its end,
    or at ``now`` while it is open; its units go first to unit grants of its metric, and the
    price of the units left (the pricing engine's own quote, tiers and minimums included)
    goes to money grants of the price's currency."""
    out = []
    for total in sorted(totals, key=lambda t: (min(t.period_end, now), t.metric, t.period_start)):
        instant = min(total.period_end, now)
        value = max(total.value, ZERO)
        units = pool.take(
            Consumption(
                total.metric, unit_denomination(total.metric), value, instant, total.period_start
            )
        )
        price = prices.get(total.metric)
        if price is None:
            out.append(PeriodBurn(total, instant, units, None, None, ZERO))
            continue
        cost = quote(price, value - units).amount
        money = pool.take(
            Consumption(total.metric, price.currency, cost, instant, total.period_start)
        )
        out.append(PeriodBurn(total, instant, units, cost, price.currency, money))
    return out
