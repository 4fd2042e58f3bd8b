"""API versions: objects are stored in one superset shape and rendered per request.

`2025-03-31.basil` moved invoice and line references into `parent`, replaced line and
invoice item `price`/`plan` with `pricing`, moved subscription periods onto subscription
items, and removed usage-based `aggregate_usage`. A request whose `Stripe-Version` is that
or newer (or absent: the emulated account's default is current) gets the new shape; an
older pinned version gets the old one. Internal logic reads the stored superset.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.store import public

if TYPE_CHECKING:
    from stripe_emulator.store import StateStore

BASIL = "2025-03-31"

# Fields that exist only before basil (dropped for current requests).
LEGACY_ONLY: dict[str, tuple[str, ...]] = {
    "invoice": (
        "subscription",
        "subscription_details",
        "quote",
        "subscription_proration_date",
        "paid",
        "paid_out_of_band",
        "charge",
        "payment_intent",
        "tax",
        "total_tax_amounts",
    ),
    "line_item": (
        "type",
        "subscription_item",
        "invoice_item",
        "proration",
        "proration_details",
        "price",
        "plan",
        "tax_amounts",
        "tax_rates",
        "amount_excluding_tax",
        "unit_amount_excluding_tax",
    ),
    "invoiceitem": (
        "price",
        "plan",
        "unit_amount",
        "unit_amount_decimal",
        "subscription",
        "subscription_item",
    ),
    "subscription": ("current_period_start", "current_period_end"),
}
# Fields introduced by basil (dropped for older pinned versions).
CURRENT_ONLY: dict[str, tuple[str, ...]] = {
    "invoice": (
        "parent",
        "amount_overpaid",
        "total_taxes",
        "total_pretax_credit_amounts",
        "confirmation_secret",
    ),
    "line_item": ("parent", "pricing", "taxes", "pretax_credit_amounts"),
    "invoiceitem": ("parent", "pricing", "net_amount"),
}


def is_legacy(version: str | None) -> bool:
    """True for a pinned version older than 2025-03-31.basil."""
    return bool(version) and str(version)[:10] < BASIL


def _price_id(pricing: Any) -> str | None:
    details = (pricing or {}).get("price_details") or {}
    return details.get("price")


def _legacy_price(store: StateStore, pricing: Any) -> dict[str, Any] | None:
    price_id = _price_id(pricing)
    price = None if price_id is None else store.get("prices", price_id)
    return None if price is None else public(price)


def _legacy_invoice(obj: dict[str, Any], store: StateStore) -> None:
    details = (obj.get("parent") or {}).get("subscription_details")
    sub = obj.get("subscription") or (details or {}).get("subscription")
    obj.update(
        {
            "subscription": sub,
            "subscription_details": {"metadata": (details or {}).get("metadata") or {}}
            if sub
            else None,
            "quote": None,
            "subscription_proration_date": None,
            "paid": obj.get("status") == "paid",
            "paid_out_of_band": False,
            "charge": None,
            "payment_intent": None,
            "tax": None,
            "total_tax_amounts": [],
        }
    )


def _legacy_line(obj: dict[str, Any], store: StateStore) -> None:
    parent = obj.get("parent") or {}
    sub_item = parent.get("subscription_item_details")
    item = parent.get("invoice_item_details")
    pricing = obj.get("pricing") or {}
    obj.update(
        {
            "type": "subscription" if sub_item else "invoiceitem",
            "subscription": (sub_item or {}).get("subscription"),
            "subscription_item": (sub_item or {}).get("subscription_item"),
            "invoice_item": (item or {}).get("invoice_item"),
            "proration": False,
            "proration_details": {"credited_items": None},
            "price": _legacy_price(store, pricing),
            "plan": None,
            "tax_amounts": [],
            "tax_rates": [],
            "amount_excluding_tax": obj.get("amount"),
            "unit_amount_excluding_tax": pricing.get("unit_amount_decimal"),
        }
    )


def _legacy_invoice_item(obj: dict[str, Any], store: StateStore) -> None:
    pricing = obj.get("pricing") or {}
    unit = pricing.get("unit_amount_decimal")
    value = None if unit is None else Decimal(str(unit))
    whole = value is not None and value == value.to_integral_value()
    obj.update(
        {
            "price": _legacy_price(store, pricing),
            "plan": None,
            "unit_amount": int(value) if whole and value is not None else None,
            "unit_amount_decimal": unit,
            "subscription": None,
            "subscription_item": None,
        }
    )


def _legacy_subscription(obj: dict[str, Any], store: StateStore) -> None:
    items = ((obj.get("items") or {}).get("data")) or []
    if items and "current_period_start" not in obj:
        obj["current_period_start"] = items[0].get("current_period_start")
        obj["current_period_end"] = items[0].get("current_period_end")


_LEGACY_FILL: dict[str, Callable[[dict[str, Any], StateStore], None]] = {
    "invoice": _legacy_invoice,
    "line_item": _legacy_line,
    "invoiceitem": _legacy_invoice_item,
    "subscription": _legacy_subscription,
}


def _current_fill(kind: str, obj: dict[str, Any]) -> None:
    """Fields of the current shape derived from others: a line's `subscription` (Stripe
    kept it on lines), an item's `net_amount` (no discounts are modelled: the amount)."""
    if kind == "line_item" and obj.get("subscription") is None:
        parent = obj.get("parent") or {}
        details = parent.get("subscription_item_details") or {}
        obj["subscription"] = details.get("subscription")
    elif kind == "invoiceitem" and obj.get("net_amount") is None:
        obj["net_amount"] = obj.get("amount")


def _reshape(obj: dict[str, Any], legacy: bool, store: StateStore) -> None:
    kind = obj.get("object")
    if not isinstance(kind, str):
        return
    if kind == "price" and not legacy and isinstance(obj.get("recurring"), dict):
        obj["recurring"].pop("aggregate_usage", None)
    if legacy:
        fill = _LEGACY_FILL.get(kind)
        if fill is not None:
            fill(obj, store)
        for name in CURRENT_ONLY.get(kind, ()):
            obj.pop(name, None)
    else:
        for name in LEGACY_ONLY.get(kind, ()):
            obj.pop(name, None)
        _current_fill(kind, obj)


def shape(body: Any, version: str | None, store: StateStore) -> Any:
    """Render a response (objects at any depth, lists, events) for an API version."""
    legacy = is_legacy(version)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for element in node:
                walk(element)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
            _reshape(node, legacy, store)

    walk(body)
    return body


def shaped_copy(body: Any, version: str | None, store: StateStore) -> Any:
    """``shape`` of a deep copy of ``body``, in one walk: each dict and list is copied as it
    is reached (strings and numbers are shared), then reshaped. What a handler returns may
    be the store's own objects; the answer and its idempotency replay must not follow
    their later changes. One walk instead of ``copy.deepcopy`` and ``shape``'s own was a
    fifth of the emulator's work per meter event (ADR 0966)."""
    legacy = is_legacy(version)

    def copy(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: copy(v) for k, v in node.items()}
            _reshape(out, legacy, store)
            return out
        if isinstance(node, list | tuple):
            return [copy(v) for v in node]
        return node

    return copy(body)
