"""Invoice items: pending or attached to a draft invoice; amount = quantity times unit amount
rounded half-up to minor units. `amend` lets the control surface change a draft's item
behind the client's back (drift for reconciliation tests)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, missing_param, not_found
from stripe_emulator.forms import (
    get_bool,
    get_decimal,
    get_dict,
    get_int,
    get_str,
    metadata,
    req_str,
)
from stripe_emulator.invoices import (
    attach_item,
    cents,
    get_invoice,
    sync_item_line,
)
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.shapes import invoice_item_fields, price_fields, product_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator


def _quantity_fields(quantity: Decimal) -> dict[str, Any]:
    return {
        "quantity": int(quantity) if quantity == int(quantity) else None,
        "quantity_decimal": str(quantity),
    }


def _pricing(price: dict[str, Any], unit: Decimal) -> dict[str, Any]:
    return {
        "type": "price_details",
        "price_details": {"price": price["id"], "product": price["product"]},
        "unit_amount_decimal": str(unit),
    }


def price_from_data(emu: Emulator, data: dict[str, Any], now: int) -> dict[str, Any]:
    """`price_data`: an inline one-time price on an existing product, as Stripe makes."""
    currency = get_str(data, "currency")
    if currency is None:
        raise missing_param("price_data[currency]")
    product_id = get_str(data, "product")
    if product_id is None:
        raise missing_param("price_data[product]")
    if emu.store.get("products", product_id) is None:
        raise not_found("product", product_id, param="price_data[product]")
    unit = get_decimal(data, "unit_amount_decimal")
    if unit is None:
        whole = get_int(data, "unit_amount")
        if whole is None:
            raise missing_param("price_data[unit_amount]")
        unit = Decimal(whole)
    price = inline_price(emu, currency.lower(), unit, now, None, product_id=product_id)
    price["tax_behavior"] = get_str(data, "tax_behavior") or "unspecified"
    return price


def inline_price(
    emu: Emulator,
    currency: str,
    unit: Decimal,
    now: int,
    description: str | None,
    *,
    product_id: str | None = None,
) -> dict[str, Any]:
    """An item given only an amount gets a price of its own, as Stripe creates one: an
    inactive one-time price, on an inactive product named after the item (or on
    `product_id`)."""
    product = {
        **product_fields(),
        "id": product_id or new_id("prod", 14),
        "object": "product",
        "active": False,
        "created": now,
        "livemode": False,
        "metadata": {},
        "name": description or "Invoice item",
        "updated": now,
    }
    if product_id is None:
        emu.store.put("products", product["id"], product)
    price = {
        **price_fields(),
        "id": new_id("price", 14),
        "object": "price",
        "active": False,
        "created": now,
        "currency": currency,
        "livemode": False,
        "metadata": {},
        "product": product["id"],
        "recurring": None,
        "type": "one_time",
        "unit_amount": int(unit) if unit == unit.to_integral_value() else None,
        "unit_amount_decimal": str(unit),
    }
    emu.store.put("prices", price["id"], price)
    return price


def _amounts(p: dict[str, Any], price: dict[str, Any] | None) -> tuple[Decimal, Decimal, int]:
    """(quantity, unit amount, amount) from the parameters and the price."""
    quantity = get_decimal(p, "quantity_decimal")
    if quantity is None:
        q = get_int(p, "quantity")
        quantity = Decimal(1 if q is None else q)
    unit = get_decimal(p, "unit_amount_decimal")
    if unit is None and get_int(p, "unit_amount") is not None:  # before basil only
        unit = Decimal(get_int(p, "unit_amount") or 0)
    if unit is None and price is not None:
        unit = Decimal(price["unit_amount_decimal"])
    amount = get_int(p, "amount")
    if amount is None:
        if unit is None:
            raise missing_param("amount")
        amount = cents(unit * quantity)
    elif unit is None:
        unit = Decimal(amount) / quantity if quantity else Decimal(amount)
    return quantity, unit, amount


def create_invoice_item(req: Req) -> Any:
    p, emu = req.params, req.emu
    customer_id = req_str(p, "customer")
    if emu.store.get("customers", customer_id) is None:
        raise not_found("customer", customer_id, param="customer")
    invoice = None
    invoice_id = get_str(p, "invoice")
    if invoice_id is not None:
        invoice = get_invoice(req, invoice_id, "invoice")
        if invoice["status"] != "draft":
            raise invalid(
                "You can only add invoice items to draft invoices.",
                param="invoice",
                code="invoice_not_editable",
            )
        if invoice["customer"] != customer_id:
            raise invalid("The invoice belongs to a different customer.", param="invoice")
    price_id = get_str(get_dict(p, "pricing"), "price") or get_str(p, "price")
    price = None
    if price_id is not None:
        price = emu.store.get("prices", price_id)
        if price is None:
            raise not_found("price", price_id, param="pricing[price]")
    if price is None and get_dict(p, "price_data"):
        price = price_from_data(emu, get_dict(p, "price_data"), req.now)
    quantity, unit, amount = _amounts(p, price)
    currency = (
        get_str(p, "currency")
        or (price or {}).get("currency")
        or (invoice or {}).get("currency")
        or "usd"
    ).lower()
    if price is None:
        price = inline_price(emu, currency, unit, req.now, get_str(p, "description"))
    period = get_dict(p, "period")
    start = get_int(period, "start") if period else None
    end = get_int(period, "end") if period else None
    item = {
        **invoice_item_fields(),
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer_id,
        "date": req.now,
        "description": get_str(p, "description"),
        "discountable": get_bool(p, "discountable", True),
        "invoice": None,
        "metadata": metadata(p),
        "period": {
            "start": req.now if start is None else start,
            "end": req.now if end is None else end,
        },
        "pricing": _pricing(price, unit),
        **_quantity_fields(quantity),
    }
    if invoice is not None:
        attach_item(invoice, item)
    emu.store.put("invoice_items", item["id"], item)
    emit(emu, "invoiceitem.created", public(item))
    return public(item)


def retrieve_invoice_item(req: Req) -> Any:
    item = req.emu.store.get("invoice_items", req.path_params["id"])
    if item is None:
        raise not_found("invoiceitem", req.path_params["id"])
    return public(item)


def list_invoice_items(req: Req) -> Any:
    p = req.params
    pending = p.get("pending")
    items = [
        public(i)
        for i in reversed(list(req.emu.store.collection("invoice_items").values()))
        if p.get("customer") in (None, i["customer"])
        and p.get("invoice") in (None, i["invoice"])
        and (pending is None or (pending == "true") == (i["invoice"] is None))
    ]
    return list_envelope(items, "/v1/invoiceitems", p)


def amend(emu: Emulator, item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Change a pending or draft item's quantity / unit amount / amount (control surface).

    Changing the quantity or the unit amount recomputes the amount from them, as creating
    the item would; an explicit `amount` wins. No webhook is sent."""
    invoice = None if item["invoice"] is None else emu.store.get("invoices", item["invoice"])
    if invoice is not None and invoice["status"] != "draft":
        raise invalid(
            f"Invoice {invoice['id']} is {invoice['status']}; only items on draft "
            "invoices (or pending items) can be changed.",
            param="invoice",
        )
    pricing = item["pricing"]
    q = get_decimal(changes, "quantity_decimal")
    q = get_decimal(changes, "quantity") if q is None else q
    quantity = Decimal(item["quantity_decimal"]) if q is None else q
    given_amount = get_int(changes, "amount")
    unit = get_decimal(changes, "unit_amount_decimal")
    if unit is None:
        unit = (
            Decimal(pricing["unit_amount_decimal"])
            if given_amount is None or not quantity
            else Decimal(given_amount) / quantity
        )
    amount = cents(unit * quantity) if given_amount is None else given_amount
    item.update(
        {
            "amount": amount,
            "pricing": {**pricing, "unit_amount_decimal": str(unit)},
            **_quantity_fields(quantity),
        }
    )
    if invoice is not None:
        sync_item_line(invoice, item)
    view: dict[str, Any] = public(item)
    return view


def update_invoice_item(req: Req) -> Any:
    """Update a pending or draft item: quantity, unit amount or amount reprice it as
    creation would (`amend`); description, period and metadata change as given."""
    item = req.emu.store.get("invoice_items", req.path_params["id"])
    if item is None:
        raise not_found("invoiceitem", req.path_params["id"])
    invoice = None if item["invoice"] is None else req.emu.store.get("invoices", item["invoice"])
    if invoice is not None and invoice["status"] != "draft":
        raise invalid(
            f"Invoice {invoice['id']} is {invoice['status']}: its items can no longer be changed.",
            param="invoice",
            code="invoice_not_editable",
        )
    p = req.params
    price_id = get_str(get_dict(p, "pricing"), "price")
    changes: dict[str, Any] = {
        k: p[k] for k in ("quantity", "quantity_decimal", "unit_amount_decimal", "amount") if k in p
    }
    price = None
    if price_id is not None:
        price = req.emu.store.get("prices", price_id)
        if price is None:
            raise not_found("price", price_id, param="pricing[price]")
    elif get_dict(p, "price_data"):
        price = price_from_data(req.emu, get_dict(p, "price_data"), req.now)
    if price is not None:
        item["pricing"] = _pricing(price, Decimal(price["unit_amount_decimal"]))
        changes.setdefault("unit_amount_decimal", price["unit_amount_decimal"])
    if "description" in p:
        item["description"] = get_str(p, "description")
    period = get_dict(p, "period")
    if period:
        item["period"] = {
            "start": get_int(period, "start") or item["period"]["start"],
            "end": get_int(period, "end") or item["period"]["end"],
        }
    for key, value in metadata(p).items():
        if value == "":
            item["metadata"].pop(key, None)
        else:
            item["metadata"][key] = value
    view = amend(req.emu, item, changes)
    emit(req.emu, "invoiceitem.updated", view)
    return view


def register(router: Router) -> None:
    router.add("POST", "/v1/invoiceitems", create_invoice_item)
    router.add("GET", "/v1/invoiceitems", list_invoice_items)
    router.add("GET", "/v1/invoiceitems/{id}", retrieve_invoice_item)
    router.add("POST", "/v1/invoiceitems/{id}", update_invoice_item)
