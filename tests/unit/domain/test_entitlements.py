"""The access arithmetic: exact balances and a hard limit that lets through exactly what fits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.entitlements import (
    Enforcement,
    Feature,
    FeatureKind,
    Grant,
    MeteredState,
    Reason,
    evaluate,
)

NOW = datetime(2025, 1, 16, tzinfo=UTC)
END = datetime(2025, 2, 1, tzinfo=UTC)
FEATURE = Feature("tokens", FeatureKind.METERED, metric="tokens")
amounts = st.decimals(min_value=0, max_value=10**8, places=3, allow_nan=False)


def state(
    usage: Decimal,
    reserved: Decimal = Decimal(0),
    extra: Decimal = Decimal(0),
    credit_exhausted: bool = False,
) -> MeteredState:
    return MeteredState(usage, reserved, extra, NOW, END, credit_exhausted)


@given(
    limit=amounts, overage=amounts, usage=amounts, reserved=amounts, extra=amounts, quantity=amounts
)
def test_a_hard_limit_allows_exactly_what_fits(
    limit: Decimal,
    overage: Decimal,
    usage: Decimal,
    reserved: Decimal,
    extra: Decimal,
    quantity: Decimal,
) -> None:
    grant = Grant("c", "tokens", limit=limit, overage=overage)
    access = evaluate(FEATURE, grant, NOW, state(usage, reserved, extra))
    fits = quantity <= limit + extra + overage - usage - reserved
    assert access.allows(quantity) == (fits and access.has_access)


@given(limit=amounts, usage=amounts, reserved=amounts, extra=amounts)
def test_the_balance_is_limit_plus_extra_minus_usage_and_holds(
    limit: Decimal, usage: Decimal, reserved: Decimal, extra: Decimal
) -> None:
    access = evaluate(
        FEATURE, Grant("c", "tokens", limit=limit), NOW, state(usage, reserved, extra)
    )
    assert access.balance == limit + extra - usage - reserved


@given(limit=amounts, usage=amounts, quantity=amounts)
def test_a_soft_limit_never_refuses(limit: Decimal, usage: Decimal, quantity: Decimal) -> None:
    grant = Grant("c", "tokens", limit=limit, enforcement=Enforcement.SOFT)
    assert evaluate(FEATURE, grant, NOW, state(usage)).allows(quantity)


def test_no_grant_means_no_access() -> None:
    access = evaluate(FEATURE, None, NOW)
    assert (access.has_access, access.reason) == (False, Reason.NO_GRANT)


def test_a_disabled_grant_means_no_access() -> None:
    access = evaluate(FEATURE, Grant("c", "tokens", enabled=False, limit=Decimal(1)), NOW)
    assert access.reason is Reason.DISABLED


def test_zero_credit_stops_a_grant_that_asks_for_it() -> None:
    grant = Grant("c", "tokens", limit=Decimal(10), stop_at_zero_credit=True)
    access = evaluate(FEATURE, grant, NOW, state(Decimal(1), credit_exhausted=True))
    assert (access.has_access, access.reason) == (False, Reason.NO_CREDIT)


def test_zero_credit_does_not_stop_a_grant_that_does_not_ask() -> None:
    grant = Grant("c", "tokens", limit=Decimal(10))
    assert evaluate(FEATURE, grant, NOW, state(Decimal(1), credit_exhausted=True)).has_access
