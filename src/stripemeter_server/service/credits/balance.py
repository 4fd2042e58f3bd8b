"""A customer's credit: balance per currency (or unit), each grant's remaining amount, the
burn over the last day and week, and when the balance runs out at the week's rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from stripemeter_server.domain.bounded import MAX_INSTANT, check_identifier
from stripemeter_server.domain.credit_parsing import CODE
from stripemeter_server.domain.credits import CreditGrant, unit_denomination
from stripemeter_server.domain.decimals import ARITHMETIC, ZERO
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.prices import effective_prices
from stripemeter_server.service.credits.burn import (
    DAY,
    WEEK,
    BurnDown,
    burn_down,
    burn_from,
    burns_before,
    drawn_by_denomination,
)
from stripemeter_server.service.credits.ports import CreditsUnitOfWork as UnitOfWork

RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class GrantState:
    grant: CreditGrant
    drawn: Decimal
    remaining: Decimal
    status: str  # active, pending, exhausted, expired or voided


@dataclass(frozen=True, slots=True)
class Balance:
    denomination: str
    balance: Decimal
    burned_last_day: Decimal
    burned_last_week: Decimal
    daily_rate: Decimal
    projected_run_out: datetime | None


@dataclass(frozen=True, slots=True)
class CreditSummary:
    customer_ref: str
    as_of: datetime
    balances: list[Balance]
    grants: list[GrantState]


def grant_states(current: BurnDown) -> list[GrantState]:
    now, pool = current.as_of, current.pool
    return [
        GrantState(g, pool.drawn[g.grant_id], pool.remaining(g), _status(g, pool.remaining(g), now))
        for g in current.grants
    ]


def _status(grant: CreditGrant, remaining: Decimal, now: datetime) -> str:
    if grant.voided_at is not None and now >= grant.voided_at:
        return "voided"
    if grant.expires_at is not None and now >= grant.expires_at:
        return "expired"
    if now < grant.effective_at:
        return "pending"
    return "active" if remaining > ZERO else "exhausted"


def _run_out(balance: Decimal, burned_week: Decimal, now: datetime) -> datetime | None:
    if balance <= ZERO or burned_week <= ZERO:
        return None
    week_us = Decimal(int(WEEK / timedelta(microseconds=1)))
    micros = int(ARITHMETIC.divide(ARITHMETIC.multiply(balance, week_us), burned_week))
    if micros >= int((MAX_INSTANT - now) / timedelta(microseconds=1)):
        return None
    return now + timedelta(microseconds=micros)


def credit_summary(uow: UnitOfWork, customer_ref: str, now: datetime) -> CreditSummary:
    check_identifier(customer_ref, "customerRef", code=CODE)
    now_us = to_micros(now)
    current = burn_from(uow.billing_reads.billing_inputs(customer_ref, now_us, now_us), now)
    drawn_now = drawn_by_denomination(current.pool)
    a_day_ago, a_week_ago = burns_before(uow, customer_ref, current, [now - DAY, now - WEEK])
    drawn_day, drawn_week = drawn_by_denomination(a_day_ago), drawn_by_denomination(a_week_ago)
    balances = []
    for denomination in sorted(drawn_now):
        balance = current.pool.balance(denomination, now)
        week = drawn_now[denomination] - drawn_week[denomination]
        rate = ARITHMETIC.divide(week, Decimal(7)).quantize(RATE_PLACES, ROUND_HALF_UP)
        balances.append(
            Balance(
                denomination,
                balance,
                drawn_now[denomination] - drawn_day[denomination],
                week,
                rate,
                _run_out(balance, week, now),
            )
        )
    return CreditSummary(customer_ref, now, balances, grant_states(current))


def credit_left_for(
    uow: UnitOfWork, customer_ref: str, metric: str, now: datetime
) -> Decimal | None:
    """What the grants that could pay for ``metric`` (its units, or its price's currency)
    still hold now; None when the customer has no such grant."""
    current = burn_down(uow, customer_ref, now)
    price = effective_prices(uow, customer_ref).get(metric)
    denominations = {unit_denomination(metric)} | ({price.currency} if price else set())
    covering = [
        g
        for g in current.grants
        if g.denomination in denominations and g.covers(g.denomination, metric)
    ]
    if not covering:
        return None
    return sum((current.pool.remaining(g) for g in covering if g.stands_at(now)), ZERO)
