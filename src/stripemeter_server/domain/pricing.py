"""Prices and the exact arithmetic that turns a period's quantity into money.

The rules (see ``docs/adr/0200-pricing-semantics.md``) follow Stripe wherever Stripe has one,
so that what stripemeter shows and what Stripe invoices agree to the minor unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from typing import Final

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.money import (
    EXACT_CONTEXT,
    limit_violation,
    normalize_currency,
    round_amount,
    zero_amount,
)

_DECIMAL_TEXT: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class PriceModel(StrEnum):
    PER_UNIT = "per_unit"
    GRADUATED = "graduated"
    VOLUME = "volume"
    PACKAGE = "package"
    FLAT = "flat"


_TIERED: Final = frozenset({PriceModel.GRADUATED, PriceModel.VOLUME})
# Which optional fields each model needs; any other one set is a configuration mistake.
_REQUIRED: Final[dict[PriceModel, tuple[str, ...]]] = {
    PriceModel.PER_UNIT: ("unitAmount",),
    PriceModel.GRADUATED: ("tiers",),
    PriceModel.VOLUME: ("tiers",),
    PriceModel.PACKAGE: ("packageSize", "packageAmount"),
    PriceModel.FLAT: ("flatAmount",),
}


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier; it covers quantities above the previous tier's ``up_to`` up to and
    including its own (``None`` = no upper bound)."""

    up_to: Decimal | None
    unit_amount: Decimal = Decimal(0)
    flat_amount: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Price:
    """A validated price: constructing an inconsistent one raises, so code holding a
    ``Price`` never has to re-check it."""

    model: PriceModel
    currency: str
    unit_amount: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    package_amount: Decimal | None = None
    flat_amount: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def __post_init__(self) -> None:
        _validate(self)


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One explainable part of a charge; ``amount`` is rounded to the minor unit."""

    description: str
    quantity: Decimal
    unit_amount: Decimal | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """``subtotal`` sums the usage lines; ``amount`` also includes a minimum top-up or a
    maximum cap line, so ``amount`` is always the sum of all ``lines``."""

    currency: str
    quantity: Decimal
    lines: tuple[PriceLine, ...]
    subtotal: Decimal
    amount: Decimal


def _invalid(message: str, field: str | None) -> ValidationError:
    return ValidationError(message, code="invalid_price", field=field)


def _check_amount(value: object, field: str, *, positive: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _invalid(f"{field} must be a finite decimal", field)
    if value < 0 or (positive and value == 0):
        sign = "greater than 0" if positive else "non-negative"
        raise _invalid(f"{field} must be {sign}, got {value}", field)
    reason = limit_violation(value)
    if reason is not None:
        raise _invalid(f"{field} {reason}", field)


def _field_values(price: Price) -> dict[str, object]:
    return {
        "unitAmount": price.unit_amount,
        "tiers": price.tiers or None,
        "packageSize": price.package_size,
        "packageAmount": price.package_amount,
        "flatAmount": price.flat_amount,
    }


def _validate(price: Price) -> None:
    try:  # a plain "graduated" string is accepted and stored as the enum member
        object.__setattr__(price, "model", PriceModel(price.model))
        object.__setattr__(price, "currency", normalize_currency(price.currency))
    except ValueError:
        raise _invalid(f"unknown price model {price.model!r}", "model") from None
    except ValidationError as exc:
        raise _invalid(exc.message, "currency") from None
    object.__setattr__(price, "tiers", tuple(price.tiers))
    required = _REQUIRED[price.model]
    for name, value in _field_values(price).items():
        if name in required and value is None:
            raise _invalid(f"{name} is required for {price.model} prices", name)
        if name not in required and value is not None:
            raise _invalid(f"{name} is not used by {price.model} prices", name)
        if name != "tiers" and value is not None:
            _check_amount(value, name, positive=name == "packageSize")
    if price.model in _TIERED:
        _validate_tiers(price.tiers)
    for name, bound in (("minimum", price.minimum), ("maximum", price.maximum)):
        if bound is not None:
            _check_amount(bound, name)
    if price.minimum is not None and price.maximum is not None and price.minimum > price.maximum:
        raise _invalid(
            f"minimum {price.minimum} is greater than maximum {price.maximum}", "minimum"
        )


def _validate_tiers(tiers: tuple[Tier, ...]) -> None:
    previous: Decimal | None = None
    for index, tier in enumerate(tiers):
        where = f"tiers[{index}]"
        if not isinstance(tier, Tier):
            raise _invalid(f"{where} must be a tier", where)
        _check_amount(tier.unit_amount, f"{where}.unitAmount")
        _check_amount(tier.flat_amount, f"{where}.flatAmount")
        last = index == len(tiers) - 1
        if tier.up_to is None:
            if not last:
                raise _invalid("only the last tier may have no upper bound", f"{where}.upTo")
            continue
        if last:
            raise _invalid("the last tier must have no upper bound (upTo null)", f"{where}.upTo")
        _check_amount(tier.up_to, f"{where}.upTo", positive=True)
        if previous is not None and tier.up_to <= previous:
            raise _invalid(
                f"upTo must be strictly increasing: {tier.up_to} after {previous}",
                f"{where}.upTo",
            )
        previous = tier.up_to


# --- the JSON shape ---------------------------------------------------------------------

_PRICE_KEYS: Final = frozenset(
    {"model", "currency", "unitAmount", "tiers", "packageSize", "packageAmount"}
    | {"flatAmount", "minimum", "maximum"}
)
_TIER_KEYS: Final = frozenset({"upTo", "unitAmount", "flatAmount"})


def _parse_decimal(value: object, field: str) -> Decimal | None:
    """Decimal strings and integers only: a JSON float has already lost exactness."""
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise _invalid(f"{field} must be a decimal string or an integer", field)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        return Decimal(value)
    raise _invalid(f"{field} must be a decimal string or an integer, got {value!r}", field)


def _reject_unknown(data: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            field = f"{where}.{key}" if where else str(key)
            raise _invalid(f"unknown field {key!r}", field)


def _parse_tier(raw: object, index: int) -> Tier:
    where = f"tiers[{index}]"
    if not isinstance(raw, Mapping):
        raise _invalid(f"{where} must be an object", where)
    _reject_unknown(raw, _TIER_KEYS, where)
    unit = _parse_decimal(raw.get("unitAmount"), f"{where}.unitAmount")
    flat = _parse_decimal(raw.get("flatAmount"), f"{where}.flatAmount")
    return Tier(
        up_to=_parse_decimal(raw.get("upTo"), f"{where}.upTo"),
        unit_amount=Decimal(0) if unit is None else unit,
        flat_amount=Decimal(0) if flat is None else flat,
    )


def price_from_dict(data: Mapping[str, object]) -> Price:
    """Parse and validate the API's camelCase price; errors name the offending field."""
    if not isinstance(data, Mapping):
        raise _invalid("a price must be a JSON object", None)
    _reject_unknown(data, _PRICE_KEYS, "")
    model = data.get("model")
    if model not in tuple(PriceModel):
        known = ", ".join(m.value for m in PriceModel)
        raise _invalid(f"model must be one of {known}, got {model!r}", "model")
    currency = data.get("currency")
    if not isinstance(currency, str):
        raise _invalid("currency is required (a three-letter ISO 4217 code)", "currency")
    raw_tiers = data.get("tiers")
    if raw_tiers is not None and not isinstance(raw_tiers, list | tuple):
        raise _invalid("tiers must be a list", "tiers")
    return Price(
        model=PriceModel(str(model)),
        currency=currency,
        unit_amount=_parse_decimal(data.get("unitAmount"), "unitAmount"),
        tiers=tuple(_parse_tier(raw, i) for i, raw in enumerate(raw_tiers or ())),
        package_size=_parse_decimal(data.get("packageSize"), "packageSize"),
        package_amount=_parse_decimal(data.get("packageAmount"), "packageAmount"),
        flat_amount=_parse_decimal(data.get("flatAmount"), "flatAmount"),
        minimum=_parse_decimal(data.get("minimum"), "minimum"),
        maximum=_parse_decimal(data.get("maximum"), "maximum"),
    )


def _text(value: Decimal | None) -> str | None:
    """Plain notation, never an exponent, so clients need no decimal parser quirks."""
    return None if value is None else format(value, "f")


def price_to_dict(price: Price) -> dict[str, object]:
    """The camelCase JSON shape; only the fields the model uses, plus minimum/maximum."""
    out: dict[str, object] = {"model": price.model.value, "currency": price.currency}
    if price.model is PriceModel.PER_UNIT:
        out["unitAmount"] = _text(price.unit_amount)
    elif price.model in _TIERED:
        out["tiers"] = [
            {
                "upTo": _text(t.up_to),
                "unitAmount": _text(t.unit_amount),
                "flatAmount": _text(t.flat_amount),
            }
            for t in price.tiers
        ]
    elif price.model is PriceModel.PACKAGE:
        out["packageSize"] = _text(price.package_size)
        out["packageAmount"] = _text(price.package_amount)
    else:
        out["flatAmount"] = _text(price.flat_amount)
    out["minimum"] = _text(price.minimum)
    out["maximum"] = _text(price.maximum)
    return out


# --- quoting ----------------------------------------------------------------------------


def _tier_label(index: int, lower: Decimal, up_to: Decimal | None) -> str:
    bound = f"above {_text(lower)}" if up_to is None else f"{_text(lower)} to {_text(up_to)}"
    return f"tier {index + 1} ({bound})"


def _tier_bounds(tiers: tuple[Tier, ...]) -> list[tuple[Decimal, Tier]]:
    """Pair each tier with its exclusive lower bound (the previous ``up_to``, 0 first)."""
    bounds: list[tuple[Decimal, Tier]] = []
    lower = Decimal(0)
    for tier in tiers:
        bounds.append((lower, tier))
        lower = tier.up_to if tier.up_to is not None else lower
    return bounds


def _graduated(price: Price, qty: Decimal) -> list[PriceLine]:
    lines: list[PriceLine] = []
    for index, (lower, tier) in enumerate(_tier_bounds(price.tiers)):
        if qty <= lower:  # not reached: neither its units nor its flat fee count
            break
        top = qty if tier.up_to is None else min(qty, tier.up_to)
        units = top - lower
        label = _tier_label(index, lower, tier.up_to)
        lines.append(PriceLine(label, units, tier.unit_amount, units * tier.unit_amount))
        if tier.flat_amount:
            lines.append(PriceLine(f"{label} flat fee", Decimal(1), None, tier.flat_amount))
    return lines


def _volume(price: Price, qty: Decimal) -> list[PriceLine]:
    if qty == 0:  # like a graduated first tier: no usage reaches no tier, no flat fee
        return []
    for index, (lower, tier) in enumerate(_tier_bounds(price.tiers)):
        if tier.up_to is None or qty <= tier.up_to:
            label = f"all units at {_tier_label(index, lower, tier.up_to)}"
            lines = [PriceLine(label, qty, tier.unit_amount, qty * tier.unit_amount)]
            if tier.flat_amount:
                lines.append(PriceLine(f"{label} flat fee", Decimal(1), None, tier.flat_amount))
            return lines
    raise AssertionError("validated tiers always end with an open tier")  # pragma: no cover


def _raw_lines(price: Price, qty: Decimal) -> list[PriceLine]:
    """The charge's lines with exact, unrounded amounts (before minimum/maximum)."""
    match price.model:
        case PriceModel.PER_UNIT:
            unit = price.unit_amount
            assert unit is not None  # validated
            return [PriceLine("per unit", qty, unit, qty * unit)]
        case PriceModel.GRADUATED:
            return _graduated(price, qty)
        case PriceModel.VOLUME:
            return _volume(price, qty)
        case PriceModel.PACKAGE:
            size, each = price.package_size, price.package_amount
            assert size is not None and each is not None  # validated
            whole, rest = divmod(qty, size)
            packages = whole + (1 if rest else 0)  # a started package is a whole package
            label = f"packages of {_text(size)}"
            return [PriceLine(label, packages, each, packages * each)]
        case PriceModel.FLAT:
            fee = price.flat_amount
            assert fee is not None  # validated
            return [PriceLine("flat fee", Decimal(1), None, fee)]
    raise AssertionError(f"unhandled model {price.model}")  # pragma: no cover


def _bad_quantity(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_quantity", field="quantity")


def _checked_lines(price: Price, quantity: Decimal) -> tuple[Decimal, list[PriceLine]]:
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise _bad_quantity(f"quantity must be a finite decimal, got {quantity!r}")
    if quantity < 0:  # usage is never negative; credits are adjustments, not prices
        raise _bad_quantity(f"quantity must not be negative, got {quantity}")
    try:
        with localcontext(EXACT_CONTEXT):
            qty = +quantity  # also turns -0 into 0
            return qty, _raw_lines(price, qty)
    except Inexact:
        raise _bad_quantity(f"quantity {quantity} has too many digits to price exactly") from None


def unrounded_subtotal(price: Price, quantity: Decimal) -> Decimal:
    """The exact charge before per-line rounding and minimum/maximum.

    For comparisons that rounding would blur (and for checking the rounded quote)."""
    _, lines = _checked_lines(price, quantity)
    with localcontext(EXACT_CONTEXT):
        return sum((line.amount for line in lines), Decimal(0))


def quote(price: Price, quantity: Decimal) -> Quote:
    """Price one period's quantity.

    Each line is rounded half-up to the minor unit on its own, as an invoice shows it; the
    subtotal is the sum of those rounded lines, then the minimum (a top-up line) or the
    maximum (a negative cap line) applies. Minimum and maximum are first rounded to the
    minor unit, because no invoice can carry a fraction of one.
    """
    qty, raw = _checked_lines(price, quantity)
    currency = price.currency
    lines = [replace(line, amount=round_amount(line.amount, currency)) for line in raw]
    subtotal = sum((line.amount for line in lines), zero_amount(currency))
    amount = subtotal
    if price.minimum is not None:
        floor = round_amount(price.minimum, currency)
        if amount < floor:
            lines.append(PriceLine("minimum", Decimal(1), None, floor - amount))
            amount = floor
    if price.maximum is not None:
        cap = round_amount(price.maximum, currency)
        if amount > cap:
            lines.append(PriceLine("maximum cap", Decimal(1), None, cap - amount))
            amount = cap
    return Quote(currency, qty, tuple(lines), subtotal, amount)
