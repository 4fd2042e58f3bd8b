"""`add_invoice_items` at subscription creation: one-time charges (a setup fee, an
onboarding package) billed on the subscription's first invoice, as Stripe does.

Each entry becomes an invoice item of the subscription (`parent.subscription_details`) on
the invoice at creation, priced through the same path as every other invoice item, so the
invoice, its credit notes and the customer's later invoices agree. The entries are parsed
and checked in full before the subscription exists (the emulator has no rollback).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import StripeError, invalid, missing_param, not_found
from stripe_emulator.forms import get_bool, get_dict, get_int, get_str, metadata
from stripe_emulator.invoice_items import price_from_data
from stripe_emulator.params import NOT_MODELLED_CODE
from stripe_emulator.pricing import charge, unit_amount_decimal
from stripe_emulator.shapes import invoice_item_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

MAX_ADDED_ITEMS = 20  # Stripe's limit on `add_invoice_items`
PARAM = "add_invoice_items"
_NOT_MODELLED = ("discounts", "tax_rates")


@dataclass(frozen=True)
class AddedItem:
    """One checked entry: the price to charge (None: made from `price_data` when stored)."""

    index: int
    price: dict[str, Any] | None
    price_data: dict[str, Any]
    quantity: int
    discountable: bool
    meta: dict[str, str]
    start: int | None  # a `timestamp` bound; None: the subscription's first period
    end: int | None


def _not_modelled(name: str) -> StripeError:
    return StripeError(
        400,
        f"The Stripe emulator does not model the parameter `{name}` yet. "
        "It is a real Stripe parameter: see the compatibility table in "
        "docs/stripe-emulator.md.",
        code=NOT_MODELLED_CODE,
        param=name,
    )


def _bound(period: dict[str, Any], side: str, where: str) -> int | None:
    """`period[start|end]`: a `timestamp` bound, or None for the types that resolve to the
    subscription's first period (`now`, `max_item_period_start`, `min_item_period_end`)."""
    bound = get_dict(period, side)
    if get_str(bound, "type") != "timestamp":
        return None
    at = get_int(bound, "timestamp")
    if at is None:
        raise missing_param(f"{where}[period][{side}][timestamp]")
    return at


def _check_price_data(emu: Emulator, data: dict[str, Any], where: str) -> None:
    """What `price_from_data` would refuse, checked before anything is stored."""
    product = get_str(data, "product")
    if product is None:
        raise missing_param(f"{where}[product]")
    if emu.store.get("products", product) is None:
        raise not_found("product", product, param=f"{where}[product]")
    if get_str(data, "unit_amount") is None and get_str(data, "unit_amount_decimal") is None:
        raise missing_param(f"{where}[unit_amount]")


def _entry(emu: Emulator, raw: Any, index: int, currency: str) -> AddedItem:
    where = f"{PARAM}[{index}]"
    if not isinstance(raw, dict):
        raise invalid("Invalid object", param=where)
    for name in _NOT_MODELLED:
        if raw.get(name) not in (None, "", []):
            raise _not_modelled(f"{where}[{name}]")
    price_id, data = get_str(raw, "price"), get_dict(raw, "price_data")
    if (price_id is None) == (not data):
        raise invalid(
            f"You must specify exactly one of {where}[price] or {where}[price_data].",
            param=f"{where}[price]",
        )
    price = None
    if price_id is not None:
        price = emu.store.get("prices", price_id)
        if price is None:
            raise not_found("price", price_id, param=f"{where}[price]")
        if price["recurring"] is not None:
            raise invalid(
                "The price specified is a recurring price, but this field only "
                "accepts one-time prices.",
                param=f"{where}[price]",
            )
    if data:
        _check_price_data(emu, data, f"{where}[price_data]")
    given = (price or {}).get("currency") or str(get_str(data, "currency") or "").lower()
    if given != currency:
        raise invalid(
            f"The price's currency ({given or 'none'}) must match the subscription's ({currency}).",
            param=f"{where}[price]",
        )
    quantity = get_int(raw, "quantity")
    if quantity is not None and quantity < 0:
        raise invalid("Invalid positive integer", param=f"{where}[quantity]")
    period = get_dict(raw, "period")
    start, end = _bound(period, "start", where), _bound(period, "end", where)
    if start is not None and end is not None and end < start:
        raise invalid(
            "The period end must be on or after the period start.",
            param=f"{where}[period][end][timestamp]",
        )
    return AddedItem(
        index,
        price,
        data,
        1 if quantity is None else quantity,
        get_bool(raw, "discountable", True),
        metadata(raw),
        start,
        end,
    )


def parse_added_items(emu: Emulator, params: dict[str, Any], currency: str) -> list[AddedItem]:
    """The checked `add_invoice_items` of a creation request (empty when absent)."""
    raw = params.get(PARAM)
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise invalid("Invalid array", param=PARAM)
    if len(raw) > MAX_ADDED_ITEMS:
        raise invalid(f"You may pass at most {MAX_ADDED_ITEMS} {PARAM}.", param=PARAM)
    return [_entry(emu, entry, index, currency) for index, entry in enumerate(raw)]


def create_added_items(
    emu: Emulator, entries: list[AddedItem], sub: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    """Store the entries as invoice items of `sub`, not yet on an invoice."""
    made = []
    for entry in entries:
        start = sub["current_period_start"] if entry.start is None else entry.start
        end = sub["current_period_end"] if entry.end is None else entry.end
        price = entry.price or price_from_data(emu, entry.price_data, now)
        amount = charge(price, Decimal(entry.quantity))
        item = {
            **invoice_item_fields(),
            "id": new_id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": price["currency"],
            "customer": sub["customer"],
            "date": now,
            "description": None,
            "discountable": entry.discountable,
            "invoice": None,
            "metadata": entry.meta,
            # `subscription_item` is absent (not null) for an item of no subscription item
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub["id"]},
            },
            "period": {"start": start, "end": end},
            "pricing": {
                "type": "price_details",
                "price_details": {"price": price["id"], "product": price["product"]},
                "unit_amount_decimal": unit_amount_decimal(price),
            },
            "quantity": entry.quantity,
            "quantity_decimal": str(entry.quantity),
            "test_clock": sub.get("test_clock"),
            "_subscription": sub["id"],
        }
        emu.store.put("invoice_items", item["id"], item)
        made.append(item)
    return made


def announce(emu: Emulator, items: list[dict[str, Any]]) -> None:
    """`invoiceitem.created` for each, once they are on the invoice."""
    for item in items:
        emit(emu, "invoiceitem.created", public(item))
