"""Invoice lines a subscription produces for one period boundary.

One function prices every subscription item the same way for renewals, the invoice at
creation and `create_preview` (licensed items in advance for the coming period, metered
items in arrears from the meter over the ended period), so all three agree to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.aggregation import aggregate
from stripe_emulator.meter_events import usage_events
from stripe_emulator.pricing import charge, unit_amount_decimal
from stripe_emulator.shapes import line_fields
from stripe_emulator.store import new_id

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator


def is_metered(price: dict[str, Any]) -> bool:
    return bool((price.get("recurring") or {}).get("usage_type") == "metered")


def records_total(emu: Emulator, item: dict[str, Any], start: int, end: int) -> Decimal:
    """Legacy usage records of an item over [start, end), aggregated per the price."""
    by_ts: dict[int, Decimal] = {}
    for record in emu.store.collection("usage_records").values():
        if record["subscription_item"] == item["id"] and start <= record["timestamp"] < end:
            by_ts[record["timestamp"]] = Decimal(record["_value"])
    mode = (item["price"]["recurring"] or {}).get("aggregate_usage") or "sum"
    if not by_ts:
        return Decimal(0)
    if mode in ("last_during_period", "last_ever"):
        return by_ts[max(by_ts)]
    if mode == "max":
        return max(by_ts.values())
    return sum(by_ts.values(), Decimal(0))


def usage(emu: Emulator, customer: str, item: dict[str, Any], start: int, end: int) -> Decimal:
    """A metered item's usage over [start, end): the meter's aggregate for the customer
    (what the meter's event summaries give for that period), or legacy usage records."""
    meter_id = (item["price"]["recurring"] or {}).get("meter")
    if meter_id is None:
        return records_total(emu, item, start, end)
    meter = emu.store.get("meters", meter_id)
    if meter is None:
        return Decimal(0)
    events = [e for e in usage_events(emu.store, meter_id, customer) if start <= e.timestamp < end]
    return aggregate(meter["default_aggregation"]["formula"], events)


def subscription_line(
    sub: dict[str, Any],
    item: dict[str, Any],
    *,
    amount: int,
    quantity: Decimal,
    start: int,
    end: int,
    invoice_id: str | None,
    description: str | None = None,
) -> dict[str, Any]:
    """A `line_item` whose parent is a subscription item."""
    price = item["price"]
    return {
        **line_fields(),
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "invoice": invoice_id,
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
        },
        "period": {"start": start, "end": end},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": unit_amount_decimal(price),
        },
        "quantity": int(quantity) if quantity == int(quantity) else None,
        "quantity_decimal": str(quantity),
        "subscription": sub["id"],
        "subtotal": amount,
    }


def cycle_lines(
    emu: Emulator,
    sub: dict[str, Any],
    items: list[dict[str, Any]],
    *,
    start: int,
    end: int,
    new_end: int | None,
    invoice_id: str | None,
    trial_ended: bool,
) -> list[dict[str, Any]]:
    """The lines billed at the boundary `end` between [start, end) and [end, new_end).

    Metered items bill the ended period's usage (nothing for a trial period); licensed
    items bill the coming period in advance (nothing when the subscription ends)."""
    lines = []
    for item in items:
        price = item["price"]
        if is_metered(price):
            if trial_ended:
                continue
            qty = usage(emu, sub["customer"], item, start, end)
            lines.append(
                subscription_line(
                    sub,
                    item,
                    amount=charge(price, qty),
                    quantity=qty,
                    start=start,
                    end=end,
                    invoice_id=invoice_id,
                )
            )
        elif new_end is not None:
            qty = Decimal(item["quantity"])
            lines.append(
                subscription_line(
                    sub,
                    item,
                    amount=charge(price, qty),
                    quantity=qty,
                    start=end,
                    end=new_end,
                    invoice_id=invoice_id,
                )
            )
    return lines


def opening_lines(
    sub: dict[str, Any],
    items: list[dict[str, Any]],
    *,
    start: int,
    end: int,
    invoice_id: str | None,
    trial: bool,
) -> list[dict[str, Any]]:
    """The invoice at creation: licensed items in advance (zero during a trial), metered
    items as zero lines (their usage is billed in arrears)."""
    lines = []
    for item in items:
        price = item["price"]
        metered = is_metered(price)
        qty = Decimal(0) if metered else Decimal(item["quantity"])
        amount = 0 if metered or trial else charge(price, qty)
        description = "Trial period" if trial and not metered else None
        lines.append(
            subscription_line(
                sub,
                item,
                amount=amount,
                quantity=qty,
                start=start,
                end=end,
                invoice_id=invoice_id,
                description=description,
            )
        )
    return lines
