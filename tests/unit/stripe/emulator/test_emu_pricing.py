"""Pure price arithmetic of the emulator: graduated, volume and package pricing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stripe_emulator.pricing import charge, price_scheme


def _price(mode: str, tiers: list[dict[str, Any]]) -> dict[str, Any]:
    return price_scheme({"billing_scheme": "tiered", "tiers_mode": mode, "tiers": tiers})


TIERS = [
    {"up_to": "5", "unit_amount": "700"},
    {"up_to": "10", "unit_amount": "650"},
    {"up_to": "inf", "unit_amount": "600"},
]
quantities = st.integers(min_value=0, max_value=10_000)


@given(quantities)
def test_graduated_never_costs_less_for_more(quantity: int) -> None:
    price = _price("graduated", TIERS)
    assert charge(price, Decimal(quantity + 1)) >= charge(price, Decimal(quantity))


@given(quantities, st.integers(min_value=0, max_value=10_000))
def test_one_rate_in_every_tier_makes_graduated_and_volume_agree(quantity: int, rate: int) -> None:
    tiers = [{"up_to": "3", "unit_amount": str(rate)}, {"up_to": "inf", "unit_amount": str(rate)}]
    assert charge(_price("graduated", tiers), Decimal(quantity)) == charge(
        _price("volume", tiers), Decimal(quantity)
    )


@given(quantities)
def test_volume_bills_every_unit_at_one_tiers_rate(quantity: int) -> None:
    amount = charge(_price("volume", TIERS), Decimal(quantity))
    assert amount in {quantity * 700, quantity * 650, quantity * 600}


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=100))
def test_package_rounding_up_never_bills_fewer_packages_than_down(quantity: int, size: int) -> None:
    up = {
        "unit_amount_decimal": "500",
        **price_scheme({"transform_quantity": {"divide_by": str(size), "round": "up"}}),
    }
    down = {
        "unit_amount_decimal": "500",
        **price_scheme({"transform_quantity": {"divide_by": str(size), "round": "down"}}),
    }
    assert 0 <= charge(up, Decimal(quantity)) - charge(down, Decimal(quantity)) <= 500
