"""Properties of the pricing arithmetic, checked against independent references.

The references use ``fractions.Fraction`` (exact rationals) and algorithms that differ from
the implementation's, so agreement is evidence rather than a tautology.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import ceil, floor

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.pricing import (
    Price,
    PriceModel,
    Tier,
    price_from_dict,
    price_to_dict,
    quote,
    unrounded_subtotal,
)


def decimals(max_value: int, places: int, min_value: int = 0) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=min_value, max_value=max_value, places=places, allow_nan=False,
        allow_infinity=False,
    )  # fmt: skip


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    steps = draw(st.lists(decimals(10_000, 3).filter(lambda d: d > 0), min_size=0, max_size=5))
    bounds: list[Decimal | None] = []
    total = Decimal(0)
    for step in steps:
        total += step
        bounds.append(total)
    bounds.append(None)
    return tuple(Tier(bound, draw(decimals(100, 6)), draw(decimals(1_000, 4))) for bound in bounds)


currencies = st.sampled_from(["usd", "jpy", "kwd", "eur"])
quantities = st.one_of(decimals(100_000, 4), decimals(10**19, 0))


def half_up(value: Fraction, currency: str) -> Fraction:
    """Reference rounding on rationals: half away from zero to the minor unit."""
    scale = 10 ** minor_unit_exponent(currency)
    magnitude = Fraction(floor(abs(value) * scale + Fraction(1, 2)), scale)
    return magnitude if value >= 0 else -magnitude


def lower_bounds(tiers: tuple[Tier, ...]) -> list[Fraction]:
    return [Fraction(0)] + [Fraction(t.up_to) for t in tiers[:-1] if t.up_to is not None]


def graduated_reference(tiers: tuple[Tier, ...], quantity: Decimal) -> list[Fraction]:
    """Peel the quantity from the top tier down; returns each touched part (units, fees)."""
    parts: list[Fraction] = []
    remaining = Fraction(quantity)
    for lower, tier in reversed(list(zip(lower_bounds(tiers), tiers, strict=True))):
        if remaining > lower:
            parts.append((remaining - lower) * Fraction(tier.unit_amount))
            parts.append(Fraction(tier.flat_amount))
            remaining = lower
    return parts


def reached_tier(tiers: tuple[Tier, ...], quantity: Decimal) -> Tier:
    return next(t for t in tiers if t.up_to is None or quantity <= t.up_to)


@given(tiers=tier_lists(), currency=currencies, q1=quantities, q2=quantities)
def test_graduated_amount_is_monotonic(
    tiers: tuple[Tier, ...], currency: str, q1: Decimal, q2: Decimal
) -> None:
    price = Price(PriceModel.GRADUATED, currency, tiers=tiers)
    low, high = sorted((q1, q2))
    assert quote(price, low).amount <= quote(price, high).amount


@given(tiers=tier_lists(), quantity=quantities)
def test_graduated_unrounded_amount_is_the_sum_over_tiers(
    tiers: tuple[Tier, ...], quantity: Decimal
) -> None:
    price = Price(PriceModel.GRADUATED, "usd", tiers=tiers)
    total = Fraction(0)
    for lower, tier in zip(lower_bounds(tiers), tiers, strict=True):
        upper = Fraction(tier.up_to) if tier.up_to is not None else Fraction(quantity)
        in_tier = max(Fraction(0), min(Fraction(quantity), upper) - lower)
        reached = Fraction(quantity) > lower
        total += in_tier * Fraction(tier.unit_amount) + (
            Fraction(tier.flat_amount) if reached else 0
        )
    assert Fraction(unrounded_subtotal(price, quantity)) == total


@given(tiers=tier_lists(), quantity=quantities)
def test_graduated_unrounded_amount_matches_the_peeling_reference(
    tiers: tuple[Tier, ...], quantity: Decimal
) -> None:
    price = Price(PriceModel.GRADUATED, "usd", tiers=tiers)
    assert Fraction(unrounded_subtotal(price, quantity)) == sum(
        graduated_reference(tiers, quantity), Fraction(0)
    )


@given(tiers=tier_lists(), currency=currencies, quantity=quantities)
def test_graduated_quote_is_the_sum_of_rounded_tier_parts(
    tiers: tuple[Tier, ...], currency: str, quantity: Decimal
) -> None:
    price = Price(PriceModel.GRADUATED, currency, tiers=tiers)
    parts = graduated_reference(tiers, quantity)
    expected = sum((half_up(part, currency) for part in parts), Fraction(0))
    assert Fraction(quote(price, quantity).amount) == expected


@given(tiers=tier_lists(), currency=currencies, quantity=quantities)
def test_volume_equals_per_unit_at_the_reached_tier(
    tiers: tuple[Tier, ...], currency: str, quantity: Decimal
) -> None:
    volume = Price(PriceModel.VOLUME, currency, tiers=tiers)
    tier = reached_tier(tiers, quantity)
    flat = Price(PriceModel.PER_UNIT, currency, unit_amount=tier.unit_amount)
    fee = half_up(Fraction(tier.flat_amount), currency) if quantity > 0 else 0
    assert Fraction(quote(volume, quantity).amount) == Fraction(quote(flat, quantity).amount) + fee


@given(
    size=decimals(10_000, 3).filter(lambda d: d > 0),
    package_amount=decimals(1_000, 4),
    currency=currencies,
    quantity=quantities,
)
def test_package_never_charges_less_than_per_unit(
    size: Decimal, package_amount: Decimal, currency: str, quantity: Decimal
) -> None:
    price = Price(PriceModel.PACKAGE, currency, package_size=size, package_amount=package_amount)
    per_unit_exact = Fraction(quantity) * Fraction(package_amount) / Fraction(size)
    assert Fraction(unrounded_subtotal(price, quantity)) >= per_unit_exact
    assert Fraction(quote(price, quantity).amount) >= half_up(per_unit_exact, currency)


@given(
    size=decimals(10_000, 3).filter(lambda d: d > 0),
    package_amount=decimals(1_000, 4),
    quantity=quantities,
)
def test_package_count_is_the_ceiling(
    size: Decimal, package_amount: Decimal, quantity: Decimal
) -> None:
    price = Price(PriceModel.PACKAGE, "usd", package_size=size, package_amount=package_amount)
    (line,) = quote(price, quantity).lines
    assert line.quantity == ceil(Fraction(quantity) / Fraction(size))


@given(
    tiers=tier_lists(),
    bounds=st.tuples(decimals(10_000, 2), decimals(10_000, 2)).map(sorted),
    quantity=quantities,
)
def test_amount_stays_within_minimum_and_maximum(
    tiers: tuple[Tier, ...], bounds: list[Decimal], quantity: Decimal
) -> None:
    minimum, maximum = bounds
    price = Price(PriceModel.GRADUATED, "usd", tiers=tiers, minimum=minimum, maximum=maximum)
    result = quote(price, quantity)
    assert minimum <= result.amount <= maximum
    assert result.amount == sum(line.amount for line in result.lines)
    assert result.amount == min(max(result.subtotal, minimum), maximum)


@st.composite
def prices(draw: st.DrawFn) -> Price:
    currency = draw(st.sampled_from(["usd", "jpy", "kwd"]))
    bound = st.none() | decimals(10**6, 2)
    low, high = draw(bound), draw(bound)
    if low is not None and high is not None and low > high:
        low, high = high, low
    model = draw(st.sampled_from(list(PriceModel)))
    fields: dict[str, object] = {}
    if model is PriceModel.PER_UNIT:
        fields["unit_amount"] = draw(decimals(1_000, 12))
    elif model in (PriceModel.GRADUATED, PriceModel.VOLUME):
        fields["tiers"] = draw(tier_lists())
    elif model is PriceModel.PACKAGE:
        fields["package_size"] = draw(decimals(10_000, 3).filter(lambda d: d > 0))
        fields["package_amount"] = draw(decimals(1_000, 4))
    else:
        fields["flat_amount"] = draw(decimals(10**6, 2))
    return Price(model, currency, minimum=low, maximum=high, **fields)  # type: ignore[arg-type]


@given(price=prices())
def test_any_valid_price_round_trips_through_its_dict(price: Price) -> None:
    assert price_from_dict(price_to_dict(price)) == price


@given(tiers=tier_lists(), currency=currencies)
def test_graduated_matches_the_reference_exactly_on_every_tier_boundary(
    tiers: tuple[Tier, ...], currency: str
) -> None:
    price = Price(PriceModel.GRADUATED, currency, tiers=tiers)
    for bound in (t.up_to for t in tiers if t.up_to is not None):
        expected = sum(
            (half_up(p, currency) for p in graduated_reference(tiers, bound)), Fraction(0)
        )
        assert Fraction(quote(price, bound).amount) == expected
