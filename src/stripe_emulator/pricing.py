"""Price schemes: per-unit, tiered (graduated or volume) and package (`transform_quantity`).

`price_scheme` parses the creation parameters into the price's fields; `charge` turns a
quantity into an amount in minor units. Renewals, previews and credit notes all price
through `charge`, so they agree to the cent.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from stripe_emulator.errors import invalid
from stripe_emulator.forms import get_decimal, get_dict, get_int, get_str

MAX_TIERS = 250
MAX_AMOUNT = Decimal(10) ** 12  # bounds every parsed amount (no huge-integer arithmetic)


def cents(value: Decimal) -> int:
    """Round a decimal amount to whole minor units, half up (Stripe rounds each line)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _amount_pair(raw: dict[str, Any], key: str, where: str) -> tuple[int | None, str | None]:
    """`x` / `x_decimal` of a tier: an integer and its decimal string, as Stripe echoes."""
    whole = get_int(raw, key)
    exact = get_decimal(raw, f"{key}_decimal")
    if whole is not None and exact is not None:
        raise invalid(
            f"You may only specify one of {key} and {key}_decimal.", param=f"{where}[{key}]"
        )
    if whole is not None:
        if whole > MAX_AMOUNT:
            raise invalid(f"Invalid {key}: too large.", param=f"{where}[{key}]")
        if whole < 0:
            raise invalid(f"Invalid {key}: must be non-negative.", param=f"{where}[{key}]")
        return whole, str(whole)
    if exact is not None:
        if exact > MAX_AMOUNT:
            raise invalid(f"Invalid {key}_decimal: too large.", param=f"{where}[{key}_decimal]")
        if exact < 0:
            raise invalid(
                f"Invalid {key}_decimal: must be non-negative.", param=f"{where}[{key}_decimal]"
            )
        return (int(exact) if exact == int(exact) else None), str(exact)
    return None, None


def _tiers(p: dict[str, Any]) -> list[dict[str, Any]]:
    raw = p.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise invalid("Missing required param: tiers.", param="tiers", code="parameter_missing")
    if len(raw) > MAX_TIERS:
        raise invalid(f"A price can have at most {MAX_TIERS} tiers.", param="tiers")
    tiers: list[dict[str, Any]] = []
    previous = 0
    for index, entry in enumerate(raw):
        where = f"tiers[{index}]"
        if not isinstance(entry, dict):
            raise invalid("Invalid object", param=where)
        up_to_raw = get_str(entry, "up_to")
        last = index == len(raw) - 1
        if up_to_raw == "inf":
            if not last:
                raise invalid("Only the last tier can have up_to=inf.", param=f"{where}[up_to]")
            up_to = None
        else:
            up_to = get_int(entry, "up_to", required=True)
            assert up_to is not None
            if last:
                raise invalid("The last tier must have up_to=inf.", param=f"{where}[up_to]")
            if up_to <= previous:
                raise invalid("Tiers must be in ascending order of up_to.", param=f"{where}[up_to]")
            previous = up_to
        flat, flat_decimal = _amount_pair(entry, "flat_amount", where)
        unit, unit_decimal = _amount_pair(entry, "unit_amount", where)
        if flat_decimal is None and unit_decimal is None:
            raise invalid("Each tier needs unit_amount or flat_amount.", param=where)
        tiers.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": flat_decimal,
                "unit_amount": unit,
                "unit_amount_decimal": unit_decimal,
                "up_to": up_to,
            }
        )
    return tiers


def _transform(p: dict[str, Any]) -> dict[str, Any] | None:
    raw = get_dict(p, "transform_quantity")
    if not raw:
        return None
    divide_by = get_int(raw, "divide_by", required=True)
    assert divide_by is not None
    if divide_by < 1:
        raise invalid(
            "transform_quantity[divide_by] must be at least 1.",
            param="transform_quantity[divide_by]",
        )
    rounding = get_str(raw, "round", required=True)
    if rounding not in ("up", "down"):
        raise invalid(
            "transform_quantity[round] must be up or down.", param="transform_quantity[round]"
        )
    return {"divide_by": divide_by, "round": rounding}


def price_scheme(p: dict[str, Any]) -> dict[str, Any]:
    """`billing_scheme`, `tiers`, `tiers_mode`, `transform_quantity` from the parameters.

    A tiered price carries no unit amount of its own (the tiers hold them); a package price
    is a per-unit price whose quantity is divided and rounded first."""
    scheme = get_str(p, "billing_scheme") or "per_unit"
    if scheme not in ("per_unit", "tiered"):
        raise invalid("billing_scheme must be per_unit or tiered.", param="billing_scheme")
    transform = _transform(p)
    if scheme == "per_unit":
        for key in ("tiers", "tiers_mode"):
            if p.get(key) not in (None, ""):
                raise invalid(f"{key} is only allowed when billing_scheme=tiered.", param=key)
        return {"billing_scheme": scheme, "tiers_mode": None, "transform_quantity": transform}
    mode = get_str(p, "tiers_mode", required=True)
    if mode not in ("graduated", "volume"):
        raise invalid("tiers_mode must be graduated or volume.", param="tiers_mode")
    if transform is not None:
        raise invalid(
            "transform_quantity cannot be combined with billing_scheme=tiered.",
            param="transform_quantity",
        )
    for key in ("unit_amount", "unit_amount_decimal"):
        if p.get(key) not in (None, ""):
            raise invalid(f"{key} is not allowed when billing_scheme=tiered.", param=key)
    return {
        "billing_scheme": scheme,
        "tiers": _tiers(p),
        "tiers_mode": mode,
        "transform_quantity": None,
    }


def _tier_cost(tier: dict[str, Any], units: Decimal, *, flat: bool) -> Decimal:
    unit = Decimal(tier["unit_amount_decimal"] or 0)
    fee = Decimal(tier["flat_amount_decimal"] or 0) if flat else Decimal(0)
    return units * unit + fee


def _graduated(tiers: list[dict[str, Any]], quantity: Decimal) -> Decimal:
    """Each tier bills the units that fall in it; a tier's flat fee is due once any unit
    reaches it (the first tier's fee is due even at zero, as for a base fee)."""
    total, floor = Decimal(0), Decimal(0)
    for index, tier in enumerate(tiers):
        ceiling = None if tier["up_to"] is None else Decimal(tier["up_to"])
        units = quantity - floor if ceiling is None else min(quantity, ceiling) - floor
        if units <= 0 and index > 0:
            break
        total += _tier_cost(tier, max(units, Decimal(0)), flat=True)
        if ceiling is None or quantity <= ceiling:
            break
        floor = ceiling
    return total


def _volume(tiers: list[dict[str, Any]], quantity: Decimal) -> Decimal:
    """All units at the rate of the tier the total falls in (plus that tier's flat fee)."""
    for tier in tiers:
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            return _tier_cost(tier, quantity, flat=True)
    return Decimal(0)  # unreachable: the last tier is unbounded


def billed_quantity(price: dict[str, Any], quantity: Decimal) -> Decimal:
    """The quantity after `transform_quantity` (package pricing), or as given."""
    transform = price.get("transform_quantity")
    if not transform:
        return quantity
    rounding = ROUND_CEILING if transform["round"] == "up" else ROUND_FLOOR
    return (quantity / Decimal(transform["divide_by"])).quantize(Decimal(1), rounding=rounding)


def charge(price: dict[str, Any], quantity: Decimal) -> int:
    """The amount in minor units that `quantity` of `price` costs for one period."""
    if price.get("billing_scheme") == "tiered":
        tiers = price["tiers"]
        raw = (
            _graduated(tiers, quantity)
            if price["tiers_mode"] == "graduated"
            else _volume(tiers, quantity)
        )
        return cents(raw)
    return cents(billed_quantity(price, quantity) * Decimal(price["unit_amount_decimal"]))


def unit_amount_decimal(price: dict[str, Any]) -> str | None:
    """A line's unit amount: the price's for per-unit prices, none for tiered ones."""
    if price.get("billing_scheme") == "tiered":
        return None
    value = price.get("unit_amount_decimal")
    return None if value is None else str(value)
