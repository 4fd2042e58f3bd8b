"""Quoting a quantity under each price model (domain/pricing.py).

Expected amounts are worked out by hand in the comments next to them.
"""

from __future__ import annotations

from decimal import Context, Decimal

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.pricing import Price, PriceModel, Tier, quote

D = Decimal


def per_unit(
    unit: str,
    currency: str = "usd",
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Price:
    return Price(
        PriceModel.PER_UNIT, currency, unit_amount=D(unit), minimum=minimum, maximum=maximum
    )


# Tiers used by the graduated and volume tests:
#   tier 1: (0, 100]     1.00 per unit, flat 5
#   tier 2: (100, 1000]  0.50 per unit, flat 10
#   tier 3: (1000, inf)  0.10 per unit, flat 20
TIERS = (
    Tier(D(100), D("1.00"), D(5)),
    Tier(D(1000), D("0.50"), D(10)),
    Tier(None, D("0.10"), D(20)),
)
GRADUATED = Price(PriceModel.GRADUATED, "usd", tiers=TIERS)
VOLUME = Price(PriceModel.VOLUME, "usd", tiers=TIERS)
PACKAGE = Price(PriceModel.PACKAGE, "usd", package_size=D(100), package_amount=D(5))
FLAT = Price(PriceModel.FLAT, "usd", flat_amount=D(49))


def amount(price: Price, quantity: str) -> Decimal:
    return quote(price, D(quantity)).amount


# --- per_unit -------------------------------------------------------------------------


def test_per_unit_multiplies_quantity_by_unit_amount() -> None:
    assert amount(per_unit("0.002"), "1000") == D("2.00")  # 1000 * 0.002


def test_per_unit_prices_fractional_quantities() -> None:
    assert amount(per_unit("0.10"), "2.5") == D("0.25")


def test_per_unit_zero_quantity_costs_nothing() -> None:
    assert amount(per_unit("3"), "0") == D("0.00")


def test_per_unit_rounds_the_line_half_up() -> None:
    assert amount(per_unit("0.005"), "1") == D("0.01")  # 0.005 is a tie -> up


def test_per_unit_rounds_below_half_down() -> None:
    assert amount(per_unit("0.0015"), "3") == D("0.00")  # 0.0045


def test_per_unit_handles_twenty_significant_digit_quantities() -> None:
    # 12345678901234567890 * 7E-12 = 86419752.30864197523 -> 86419752.31
    assert amount(per_unit("0.000000000007"), "12345678901234567890") == D("86419752.31")


def test_per_unit_huge_amount_is_exact_beyond_28_digits() -> None:
    # In integers: 98765432109876543210 * 123456789012 = 12193263113668038396444871208520,
    # i.e. 12193263113668038396.444871208520 (32 digits) -> .44 after rounding.
    exact_cents, remainder = divmod(98765432109876543210 * 123456789012, 10**10)
    assert remainder < 10**10 // 2  # below half: rounds down
    result = amount(per_unit("0.123456789012"), "98765432109876543210")
    assert result == D(exact_cents).scaleb(-2, context=Context(prec=60))


def test_jpy_line_rounds_to_whole_yen() -> None:
    assert amount(per_unit("0.5", "jpy"), "3") == D("2")  # 1.5 -> 2


def test_kwd_line_rounds_to_fils() -> None:
    assert amount(per_unit("0.0125", "kwd"), "1") == D("0.013")


def test_quote_reports_lower_case_currency_and_quantity() -> None:
    result = quote(per_unit("1", "EUR"), D("7"))
    assert (result.currency, result.quantity) == ("eur", D(7))


def test_per_unit_has_one_line_with_the_unit_amount() -> None:
    (line,) = quote(per_unit("0.25"), D(4)).lines
    assert (line.quantity, line.unit_amount, line.amount) == (D(4), D("0.25"), D("1.00"))


# --- graduated ------------------------------------------------------------------------


def test_graduated_zero_quantity_charges_no_first_tier_flat_fee() -> None:
    result = quote(GRADUATED, D(0))
    assert result.amount == D("0.00")
    assert result.lines == ()


def test_graduated_any_positive_quantity_reaches_the_first_tier_flat_fee() -> None:
    assert amount(GRADUATED, "0.5") == D("5.50")  # 0.5 * 1.00 + 5


def test_graduated_quantity_on_a_boundary_stays_in_the_lower_tier() -> None:
    assert amount(GRADUATED, "100") == D("105.00")  # 100 * 1 + 5; tier 2 not reached


def test_graduated_just_above_a_boundary_reaches_the_next_flat_fee() -> None:
    # 100 + 5 + (0.000001 * 0.5 -> 0.00) + 10
    assert amount(GRADUATED, "100.000001") == D("115.00")


def test_graduated_on_the_second_boundary() -> None:
    assert amount(GRADUATED, "1000") == D("565.00")  # 100 + 5 + 900 * 0.5 + 10


def test_graduated_into_the_open_tier() -> None:
    assert amount(GRADUATED, "2500") == D("735.00")  # 565 + 1500 * 0.1 + 20


def test_graduated_lines_hold_the_units_of_each_tier() -> None:
    lines = quote(GRADUATED, D(2500)).lines
    unit_lines = [line for line in lines if line.unit_amount is not None]
    assert [line.quantity for line in unit_lines] == [D(100), D(900), D(1500)]
    assert [line.unit_amount for line in unit_lines] == [D("1.00"), D("0.50"), D("0.10")]


def test_graduated_flat_fees_are_separate_lines() -> None:
    lines = quote(GRADUATED, D(2500)).lines
    flat = [line.amount for line in lines if line.unit_amount is None]
    assert flat == [D("5.00"), D("10.00"), D("20.00")]


def test_graduated_rounds_each_tier_line_separately() -> None:
    # Two tiers of 0.005 each: per line 0.01 + 0.01 = 0.02 (a single rounding gives 0.01).
    price = Price(
        PriceModel.GRADUATED, "usd", tiers=(Tier(D(1), D("0.005")), Tier(None, D("0.005")))
    )
    assert amount(price, "2") == D("0.02")


def test_graduated_fractional_tier_bounds() -> None:
    price = Price(PriceModel.GRADUATED, "usd", tiers=(Tier(D("0.5"), D(2)), Tier(None, D(1))))
    assert amount(price, "1.25") == D("1.75")  # 0.5 * 2 + 0.75 * 1


def test_graduated_huge_quantity() -> None:
    # the tiers up to 1000 units add 585 (fees included), then a tenth per unit beyond
    expected = D(585) + (D(12345678901234567890) - 1000) * D("0.1")
    assert amount(GRADUATED, "12345678901234567890") == expected


# --- volume ---------------------------------------------------------------------------


def test_volume_zero_quantity_costs_nothing() -> None:
    assert quote(VOLUME, D(0)).lines == ()


def test_volume_within_the_first_tier() -> None:
    assert amount(VOLUME, "50") == D("55.00")  # 50 * 1 + 5


def test_volume_on_a_boundary_uses_the_lower_tier() -> None:
    assert amount(VOLUME, "100") == D("105.00")


def test_volume_prices_every_unit_at_the_reached_tier() -> None:
    assert amount(VOLUME, "101") == D("60.50")  # 101 * 0.50 + 10


def test_volume_in_the_open_tier() -> None:
    assert amount(VOLUME, "5000") == D("520.00")  # 5000 * 0.10 + 20


# --- package --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "packages"),
    [("0", 0), ("1", 1), ("99.9", 1), ("100", 1), ("100.5", 2), ("250", 3), ("300", 3)],
)
def test_package_rounds_started_packages_up(quantity: str, packages: int) -> None:
    (line,) = quote(PACKAGE, D(quantity)).lines
    assert line.quantity == packages
    assert line.amount == packages * D(5)


def test_package_with_a_fractional_size() -> None:
    price = Price(PriceModel.PACKAGE, "usd", package_size=D("0.5"), package_amount=D(2))
    assert amount(price, "1.2") == D("6.00")  # 3 packages


# --- flat -----------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0", "1", "1000000.5"])
def test_flat_ignores_the_quantity(quantity: str) -> None:
    assert amount(FLAT, quantity) == D("49.00")


# --- minimum and maximum --------------------------------------------------------------


def test_minimum_tops_up_a_small_charge() -> None:
    result = quote(per_unit("0.01", minimum=D(10)), D(100))
    assert (result.subtotal, result.amount) == (D("1.00"), D("10.00"))
    assert (result.lines[-1].description, result.lines[-1].amount) == ("minimum", D("9.00"))


def test_minimum_applies_with_no_usage() -> None:
    assert amount(per_unit("0.01", minimum=D(10)), "0") == D("10.00")


def test_no_minimum_line_when_the_charge_exceeds_it() -> None:
    result = quote(per_unit("1", minimum=D(10)), D(11))
    assert [line.description for line in result.lines] == ["per unit"]


def test_maximum_caps_with_a_negative_line() -> None:
    result = quote(per_unit("0.01", maximum=D(50)), D(10000))
    assert (result.subtotal, result.amount) == (D("100.00"), D("50.00"))
    assert (result.lines[-1].description, result.lines[-1].amount) == ("maximum cap", D("-50.00"))


def test_charge_exactly_at_the_maximum_is_not_capped() -> None:
    assert len(quote(per_unit("1", maximum=D(50)), D(50)).lines) == 1


def test_minimum_is_rounded_to_the_minor_unit_before_topping_up() -> None:
    assert amount(per_unit("1", minimum=D("10.005")), "1") == D("10.01")


def test_equal_minimum_and_maximum_fix_the_charge() -> None:
    price = per_unit("1", minimum=D(20), maximum=D(20))
    assert [amount(price, q) for q in ("0", "20", "500")] == [D("20.00")] * 3


def test_amount_is_the_sum_of_all_lines() -> None:
    result = quote(Price(PriceModel.GRADUATED, "usd", tiers=TIERS, maximum=D(300)), D(2500))
    assert result.amount == sum(line.amount for line in result.lines)


# --- quantity validation --------------------------------------------------------------


@pytest.mark.parametrize("bad", ["-1", "-0.000001", "NaN", "Infinity", "sNaN"])
def test_invalid_quantities_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        quote(per_unit("1"), D(bad))
    assert (info.value.code, info.value.field) == ("invalid_quantity", "quantity")


def test_negative_zero_quantity_is_zero() -> None:
    result = quote(per_unit("1"), D("-0"))
    assert str(result.quantity) == "0"
    assert str(result.amount) == "0.00"


def test_quantity_too_long_to_price_exactly_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        quote(per_unit("0.3"), D("1" * 70))
    assert info.value.code == "invalid_quantity"
