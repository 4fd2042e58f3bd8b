"""Applying `param_tables.ECHOED`: parameters kept on the object as given.

Runs around a route's handler (the engine calls `before` and `after`), so handlers stay
about behaviour and the long tail of data-only parameters lives in one table.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.errors import missing_param
from stripe_emulator.forms import (
    decimal_json,
    get_bool,
    get_decimal,
    get_dict,
    get_int,
    get_list,
    get_str,
)
from stripe_emulator.param_tables import ECHOED
from stripe_emulator.routing import Req

COLLECTIONS = {
    "customer": "customers",
    "invoice": "invoices",
    "invoiceitem": "invoice_items",
    "subscription": "subscriptions",
    "price": "prices",
    "product": "products",
}
Route = tuple[str, str]


def _parse(params: dict[str, Any], key: str, kind: str) -> Any:
    if kind == "int":
        return get_int(params, key)
    if kind == "num":
        value = get_decimal(params, key)
        return None if value is None else decimal_json(value)
    if kind == "bool":
        return get_bool(params, key, False)
    if kind == "obj":
        return get_dict(params, key)
    if kind == "list":
        return get_list(params, key)
    return get_str(params, key)


def before(req: Req, route: Route) -> None:
    """Checks Stripe makes on echoed parameters before anything is created."""
    if (
        route == ("POST", "/v1/prices")
        and get_str(req.params, "billing_scheme") == "tiered"
        and not req.params.get("tiers")
    ):
        raise missing_param("tiers")
    for key, (_field, kind) in ECHOED.get(route, {}).items():
        if key in req.params:
            _parse(req.params, key, kind)  # a malformed value is refused, nothing stored


def after(req: Req, route: Route, body: Any) -> None:
    """Store the echoed parameters on the object the handler returned, and in its reply."""
    table = ECHOED.get(route)
    if not table or not isinstance(body, dict):
        return
    collection = COLLECTIONS.get(str(body.get("object")))
    stored = req.emu.store.get(collection, str(body.get("id"))) if collection else None
    for key, (field, kind) in table.items():
        if key not in req.params or field.startswith("_"):
            continue
        value = _parse(req.params, key, kind)
        for target in (stored, body):
            if target is None:
                continue
            if kind == "obj" and isinstance(target.get(field), dict):
                target[field] = {**target[field], **value}
            else:
                target[field] = value
    if route == ("POST", "/v1/prices") and get_bool(req.params, "transfer_lookup_key", False):
        _transfer_lookup_key(req, body)


def _transfer_lookup_key(req: Req, price: dict[str, Any]) -> None:
    """Stripe moves the lookup key from the price that had it to the new one."""
    key = price.get("lookup_key")
    if key is None:
        return
    for other in req.emu.store.collection("prices").values():
        if other["id"] != price["id"] and other.get("lookup_key") == key:
            other["lookup_key"] = None
