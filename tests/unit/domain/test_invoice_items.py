"""The invoice flow's pure rules: the period an invoice bills, the charge, the key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.invoice_items import charge_for, item_key, usage_period
from stripemeter_server.domain.periods import PeriodSpec, PeriodType
from stripemeter_server.domain.pricing import Price, PriceModel
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
MONTHLY = PeriodSpec(PeriodType.MONTH, 1, "UTC")


def _mapping(**fields: object) -> StripeMapping:
    return StripeMapping(metric="api_calls", mode=SyncMode.INVOICE_ITEMS, **fields)  # type: ignore[arg-type]


def test_the_invoice_bills_the_period_that_ends_at_its_period_end() -> None:
    period = usage_period(MONTHLY, JAN_1, FEB_1)
    assert (period.start, period.end) == (JAN_1, FEB_1)


def test_the_customer_anchor_decides_the_period() -> None:
    mid = PeriodSpec(PeriodType.MONTH, 15, "UTC")
    period = usage_period(mid, datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC))
    assert period.start == datetime(2026, 1, 15, tzinfo=UTC)


def test_an_invoice_without_a_usage_period_is_refused() -> None:
    with pytest.raises(ValidationError):
        usage_period(MONTHLY, FEB_1, FEB_1)


def test_the_key_names_tenant_customer_metric_and_period_start() -> None:
    assert (
        item_key("acme", "cus_1", "api_calls", JAN_1)
        == "stripemeter:acme:cus_1:api_calls:2026-01-01T00:00:00.000000Z"
    )


def test_a_key_too_long_for_stripe_is_hashed() -> None:
    key = item_key("t" * 200, "c" * 200, "m", JAN_1)
    assert key.startswith("stripemeter:sha256:") and len(key) <= 255


def test_the_projects_price_gives_an_exact_amount_in_minor_units() -> None:
    price = Price(PriceModel.PER_UNIT, "usd", unit_amount=Decimal("0.002"))
    charge = charge_for(_mapping(), price, Decimal("1234"))
    assert charge.params == {"amount": 247, "currency": "usd"}


def test_a_stripe_price_sends_a_decimal_quantity_as_quantity_decimal() -> None:
    charge = charge_for(_mapping(price="price_1"), None, Decimal("2.5"))
    assert charge.params == {"pricing": {"price": "price_1"}, "quantity_decimal": "2.5"}


def test_a_unit_amount_sends_unit_amount_decimal_and_an_integer_quantity() -> None:
    charge = charge_for(_mapping(unit_amount=Decimal("0.5"), currency="usd"), None, Decimal(7))
    assert (charge.params, charge.amount) == (
        {"unit_amount_decimal": "0.5", "currency": "usd", "quantity": 7},
        4,
    )


def test_a_negative_value_bills_as_zero() -> None:
    charge = charge_for(_mapping(unit_amount=Decimal(1), currency="usd"), None, Decimal(-3))
    assert charge.is_zero


def test_a_minimum_fee_bills_even_without_usage() -> None:
    price = Price(PriceModel.PER_UNIT, "usd", unit_amount=Decimal(1), minimum=Decimal(5))
    assert not charge_for(_mapping(), price, None).is_zero


def test_a_metric_without_any_price_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        charge_for(_mapping(), None, Decimal(1))
    assert raised.value.code == "no_price"


def test_a_stripe_cycle_starting_at_its_time_of_day_bills_the_period_starting_that_day() -> None:
    anchored = PeriodSpec(PeriodType.MONTH, anchor_day=30)
    period = usage_period(
        anchored,
        datetime(2026, 11, 30, 5, 44, 44, tzinfo=UTC),
        datetime(2026, 12, 30, 5, 44, 44, tzinfo=UTC),
    )
    assert (period.start, period.end) == (
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 30, tzinfo=UTC),
    )
