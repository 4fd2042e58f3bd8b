"""Prorations for mid-period subscription changes: a credit for the unused time of what
was, a charge for the remaining time of what is, as pending invoice items (Stripe's
`create_prorations`) that the next invoice picks up, or invoiced at once
(`always_invoice`). Metered items are billed in arrears, so they never prorate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid
from stripe_emulator.forms import get_int, get_str
from stripe_emulator.pricing import cents, charge
from stripe_emulator.shapes import invoice_item_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.sub_lines import is_metered
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

BEHAVIORS = ("create_prorations", "always_invoice", "none")


def behavior(params: dict[str, Any]) -> str:
    chosen = get_str(params, "proration_behavior") or "create_prorations"
    if chosen not in BEHAVIORS:
        raise invalid(
            "proration_behavior must be one of always_invoice, create_prorations or none.",
            param="proration_behavior",
        )
    return chosen


def proration_time(params: dict[str, Any], sub: dict[str, Any], now: int) -> int:
    """`proration_date`, which must fall in the current period, or now."""
    when = get_int(params, "proration_date")
    if when is None:
        return now
    if not sub["current_period_start"] <= when <= sub["current_period_end"]:
        raise invalid(
            "proration_date must be within the current billing period.", param="proration_date"
        )
    return when


def remaining(price: dict[str, Any], quantity: int, sub: dict[str, Any], when: int) -> int:
    """The cost of `quantity` of `price` for the part of the period from `when` to its end."""
    start, end = sub["current_period_start"], sub["current_period_end"]
    if end <= start or when >= end:
        return 0
    fraction = Decimal(end - when) / Decimal(end - start)
    return cents(Decimal(charge(price, Decimal(quantity))) * fraction)


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%d %b %Y")


def proration_item(
    emu: Emulator,
    sub: dict[str, Any],
    item_id: str,
    price: dict[str, Any],
    quantity: int,
    when: int,
    *,
    credit: bool,
) -> dict[str, Any] | None:
    """A pending proration invoice item, or None when there is nothing to prorate."""
    if is_metered(price):
        return None
    amount = remaining(price, quantity, sub, when)
    if amount == 0:
        return None
    product = emu.store.get("products", price["product"]) or {"name": price["product"]}
    verb = "Unused time on" if credit else "Remaining time on"
    amount = -amount if credit else amount
    item = {
        **invoice_item_fields(),
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": price["currency"],
        "customer": sub["customer"],
        "date": when,
        "description": f"{verb} {quantity} \u00d7 {product['name']} after {_day(when)}",
        "invoice": None,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub["id"], "subscription_item": item_id},
        },
        "period": {"start": when, "end": sub["current_period_end"]},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": str(Decimal(amount) / quantity) if quantity else "0",
        },
        "proration": True,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "test_clock": sub.get("test_clock"),
        "_subscription": sub["id"],
    }
    emu.store.put("invoice_items", item["id"], item)
    emit(emu, "invoiceitem.created", public(item))
    return item


def prorate_change(
    emu: Emulator,
    sub: dict[str, Any],
    item_id: str,
    before: tuple[dict[str, Any], int] | None,
    after: tuple[dict[str, Any], int] | None,
    when: int,
) -> list[dict[str, Any]]:
    """Credit `before` (price, quantity) and charge `after` from `when` to period end."""
    made = []
    if before is not None:
        made.append(proration_item(emu, sub, item_id, *before, when, credit=True))
    if after is not None:
        made.append(proration_item(emu, sub, item_id, *after, when, credit=False))
    return [m for m in made if m is not None]
