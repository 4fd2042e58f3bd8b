"""The camelCase JSON shape of prices and its validation (domain/pricing.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.pricing import (
    Price,
    PriceModel,
    Tier,
    price_from_dict,
    price_to_dict,
)

D = Decimal

# The example of DESIGN §2, verbatim.
DESIGN_EXAMPLE: dict[str, Any] = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [
        {"upTo": "1000", "unitAmount": "0", "flatAmount": "0"},
        {"upTo": None, "unitAmount": "0.002"},
    ],
    "minimum": None,
    "maximum": None,
}

EXAMPLES: list[Price] = [
    Price(PriceModel.PER_UNIT, "usd", unit_amount=D("0.002")),
    Price(PriceModel.GRADUATED, "eur", tiers=(Tier(D(10), D(1), D(3)), Tier(None, D("0.5")))),
    Price(PriceModel.VOLUME, "jpy", tiers=(Tier(D("2.5"), D(7)), Tier(None, D(5), D(1)))),
    Price(PriceModel.PACKAGE, "kwd", package_size=D(1000), package_amount=D("1.250")),
    Price(PriceModel.FLAT, "usd", flat_amount=D(49), minimum=D(10), maximum=D(100)),
    Price(PriceModel.PER_UNIT, "usd", unit_amount=D("1E+3"), minimum=D("0.000000000001")),
]


def rejected(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        price_from_dict(data)
    assert info.value.code == "invalid_price"
    return info.value


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(DESIGN_EXAMPLE)
    change(data)
    return data


# --- parsing and round trip -----------------------------------------------------------


def test_design_example_parses() -> None:
    price = price_from_dict(DESIGN_EXAMPLE)
    assert price == Price(
        PriceModel.GRADUATED,
        "usd",
        tiers=(Tier(D(1000), D(0), D(0)), Tier(None, D("0.002"), D(0))),
    )


@pytest.mark.parametrize("price", EXAMPLES, ids=lambda p: str(p.model))
def test_round_trip_through_dict(price: Price) -> None:
    assert price_from_dict(price_to_dict(price)) == price


def test_to_dict_writes_decimals_as_plain_strings() -> None:
    data = price_to_dict(Price(PriceModel.PER_UNIT, "usd", unit_amount=D("1E+3")))
    assert data == {
        "model": "per_unit",
        "currency": "usd",
        "unitAmount": "1000",
        "minimum": None,
        "maximum": None,
    }


def test_to_dict_writes_tiers_with_every_field() -> None:
    data = price_to_dict(price_from_dict(DESIGN_EXAMPLE))
    assert data["tiers"] == [
        {"upTo": "1000", "unitAmount": "0", "flatAmount": "0"},
        {"upTo": None, "unitAmount": "0.002", "flatAmount": "0"},
    ]


def test_to_dict_of_package_price() -> None:
    data = price_to_dict(EXAMPLES[3])
    assert (data["packageSize"], data["packageAmount"]) == ("1000", "1.250")


def test_integers_are_accepted_as_amounts() -> None:
    price = price_from_dict({"model": "per_unit", "currency": "usd", "unitAmount": 2})
    assert price.unit_amount == D(2)


def test_currency_is_stored_lower_case() -> None:
    assert price_from_dict(edited(lambda d: d.update(currency="USD"))).currency == "usd"


def test_tier_amounts_default_to_zero() -> None:
    tiers = [{"upTo": 5}, {"upTo": None}]
    price = price_from_dict({"model": "volume", "currency": "usd", "tiers": tiers})
    assert price.tiers == (Tier(D(5), D(0), D(0)), Tier(None, D(0), D(0)))


def test_price_constructor_accepts_the_model_as_a_string() -> None:
    price = Price("flat", "usd", flat_amount=D(1))  # type: ignore[arg-type]
    assert price.model is PriceModel.FLAT


def test_price_constructor_validates_too() -> None:
    with pytest.raises(ValidationError) as info:
        Price(PriceModel.PER_UNIT, "usd", unit_amount=D(-1))
    assert info.value.field == "unitAmount"


# --- validation names the field -------------------------------------------------------


def test_non_object_is_rejected() -> None:
    rejected(["graduated"])


@pytest.mark.parametrize("model", ["tiered", "", None, 3])
def test_unknown_model_names_model(model: object) -> None:
    assert rejected(edited(lambda d: d.update(model=model))).field == "model"


def test_missing_model_names_model() -> None:
    assert rejected(edited(lambda d: d.pop("model"))).field == "model"


@pytest.mark.parametrize("currency", [None, "us", "dollars", 840])
def test_bad_currency_names_currency(currency: object) -> None:
    assert rejected(edited(lambda d: d.update(currency=currency))).field == "currency"


def test_unknown_top_level_key_is_named() -> None:
    assert rejected(edited(lambda d: d.update(unit_amount="1"))).field == "unit_amount"


def test_unknown_tier_key_is_named_with_its_index() -> None:
    error = rejected(edited(lambda d: d["tiers"][1].update(price="1")))
    assert error.field == "tiers[1].price"


def test_tiers_must_be_a_list() -> None:
    assert rejected(edited(lambda d: d.update(tiers="1000"))).field == "tiers"


def test_each_tier_must_be_an_object() -> None:
    assert rejected(edited(lambda d: d["tiers"].insert(1, "x"))).field == "tiers[1]"


@pytest.mark.parametrize("up_to", ["1000", "999", "0.5"])
def test_tiers_must_strictly_increase(up_to: str) -> None:
    def change(d: dict[str, Any]) -> None:
        d["tiers"].insert(1, {"upTo": up_to, "unitAmount": "0.001"})

    error = rejected(edited(change))
    assert error.field == "tiers[1].upTo"
    assert "increasing" in error.message


def test_only_the_last_tier_may_be_open() -> None:
    error = rejected(edited(lambda d: d["tiers"][0].update(upTo=None)))
    assert error.field == "tiers[0].upTo"


def test_the_last_tier_must_be_open() -> None:
    error = rejected(edited(lambda d: d["tiers"][1].update(upTo="5000")))
    assert error.field == "tiers[1].upTo"
    assert "last tier" in error.message


@pytest.mark.parametrize("up_to", ["0", "-5"])
def test_tier_bound_must_be_positive(up_to: str) -> None:
    assert rejected(edited(lambda d: d["tiers"][0].update(upTo=up_to))).field == "tiers[0].upTo"


def test_negative_tier_unit_amount_is_named() -> None:
    error = rejected(edited(lambda d: d["tiers"][1].update(unitAmount="-0.002")))
    assert error.field == "tiers[1].unitAmount"


def test_negative_tier_flat_amount_is_named() -> None:
    error = rejected(edited(lambda d: d["tiers"][0].update(flatAmount="-1")))
    assert error.field == "tiers[0].flatAmount"


@pytest.mark.parametrize("tiers", [None, []])
def test_tiered_models_require_tiers(tiers: object) -> None:
    assert rejected(edited(lambda d: d.update(tiers=tiers))).field == "tiers"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"model": "per_unit", "currency": "usd"}, "unitAmount"),
        ({"model": "package", "currency": "usd", "packageAmount": "5"}, "packageSize"),
        ({"model": "package", "currency": "usd", "packageSize": "5"}, "packageAmount"),
        ({"model": "flat", "currency": "usd"}, "flatAmount"),
    ],
)
def test_required_field_per_model_is_named(data: dict[str, Any], field: str) -> None:
    error = rejected(data)
    assert error.field == field
    assert "required" in error.message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"model": "per_unit", "unitAmount": "1", "flatAmount": "1"}, "flatAmount"),
        ({"model": "flat", "flatAmount": "1", "tiers": DESIGN_EXAMPLE["tiers"]}, "tiers"),
        ({"model": "graduated", "tiers": DESIGN_EXAMPLE["tiers"], "unitAmount": "1"}, "unitAmount"),
        ({"model": "package", "packageSize": "1", "packageAmount": "1", "unitAmount": "1"},
         "unitAmount"),
    ],
)  # fmt: skip
def test_fields_another_model_uses_are_rejected(data: dict[str, Any], field: str) -> None:
    error = rejected({"currency": "usd", **data})
    assert error.field == field
    assert "not used" in error.message


@pytest.mark.parametrize("size", ["0", "-1"])
def test_package_size_must_be_positive(size: str) -> None:
    data = {"model": "package", "currency": "usd", "packageSize": size, "packageAmount": "1"}
    assert rejected(data).field == "packageSize"


@pytest.mark.parametrize("field", ["minimum", "maximum"])
def test_negative_bounds_are_rejected(field: str) -> None:
    assert rejected(edited(lambda d: d.update({field: "-1"}))).field == field


def test_minimum_above_maximum_is_rejected() -> None:
    error = rejected(edited(lambda d: d.update(minimum="10", maximum="9.99")))
    assert error.field == "minimum"


def test_minimum_equal_to_maximum_is_allowed() -> None:
    price = price_from_dict(edited(lambda d: d.update(minimum="10", maximum="10.0")))
    assert price.minimum == price.maximum


@pytest.mark.parametrize(
    "value", [0.5, True, "1_000", " 1", "1,5", "", "NaN", "Infinity", "0x10", [], {}]
)
def test_non_decimal_amounts_are_rejected(value: object) -> None:
    error = rejected({"model": "per_unit", "currency": "usd", "unitAmount": value})
    assert error.field == "unitAmount"


@pytest.mark.parametrize(
    "value", ["0.0000000000001", "123456789012345678901", "1E+20", "1234567890.1234567890123"]
)
def test_amounts_outside_the_ledger_range_are_rejected(value: str) -> None:
    error = rejected({"model": "per_unit", "currency": "usd", "unitAmount": value})
    assert error.field == "unitAmount"


@pytest.mark.parametrize("value", ["0.000000000001", "99999999999999999999", "1.5000000000000000"])
def test_amounts_at_the_edge_of_the_range_are_accepted(value: str) -> None:
    price = price_from_dict({"model": "per_unit", "currency": "usd", "unitAmount": value})
    assert price.unit_amount == D(value)


def test_exponent_notation_is_read_exactly() -> None:
    price = price_from_dict({"model": "per_unit", "currency": "usd", "unitAmount": "2.5E-3"})
    assert price.unit_amount == D("0.0025")
