"""Drawing consumption from credit grants: exact, bounded by each grant, order-independent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.credits import (
    Consumption,
    CreditCategory,
    CreditGrant,
    CreditPool,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
money = st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2)


def _grant(index: int, amount: Decimal, priority: int) -> CreditGrant:
    return CreditGrant(f"g{index}", "c", amount, "usd", CreditCategory.PAID, priority, T0)


grants = st.lists(st.tuples(money, st.integers(0, 3)), min_size=1, max_size=5).map(
    lambda items: [_grant(i, a, p) for i, (a, p) in enumerate(items)]
)
charges = st.lists(st.tuples(money, st.integers(0, 30)), max_size=12).map(
    lambda items: [Consumption("m", "usd", a, T0 + timedelta(days=d)) for a, d in items]
)


@given(grants=grants, items=charges)
def test_the_draw_is_the_lesser_of_the_charges_and_the_credit(
    grants: list[CreditGrant], items: list[Consumption]
) -> None:
    pool = CreditPool(grants)
    given_total = pool.take_all(items)
    assert given_total == min(
        sum((c.amount for c in items), Decimal(0)), sum((g.amount for g in grants), Decimal(0))
    )


@given(grants=grants, items=charges)
def test_no_grant_gives_more_than_it_holds(
    grants: list[CreditGrant], items: list[Consumption]
) -> None:
    pool = CreditPool(grants)
    pool.take_all(items)
    assert all(Decimal(0) <= pool.drawn[g.grant_id] <= g.amount for g in grants)


@given(grants=grants, items=charges, seed=st.randoms())
def test_the_order_charges_are_listed_in_does_not_matter(
    grants: list[CreditGrant], items: list[Consumption], seed: object
) -> None:
    first, second = CreditPool(grants), CreditPool(grants)
    first.take_all(items)
    second.take_all(seed.sample(items, len(items)))  # type: ignore[attr-defined]
    assert first.drawn == second.drawn


@given(grants=grants, items=charges)
def test_a_lower_priority_is_used_up_before_a_higher_one_gives(
    grants: list[CreditGrant], items: list[Consumption]
) -> None:
    pool = CreditPool(grants)
    pool.take_all(items)
    for low in grants:
        for high in grants:
            if low.priority < high.priority and pool.drawn[high.grant_id] > 0:
                assert pool.remaining(low) == 0


def test_a_grant_outside_its_validity_gives_nothing() -> None:
    grant = CreditGrant(
        "g", "c", Decimal(10), "usd", CreditCategory.PAID, 0, T0, expires_at=T0 + timedelta(days=1)
    )
    pool = CreditPool([grant])
    assert pool.take(Consumption("m", "usd", Decimal(5), T0 + timedelta(days=2))) == 0
