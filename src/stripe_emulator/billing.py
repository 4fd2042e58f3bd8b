"""Customers, products and prices: the catalogue that subscriptions and invoices use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripe_emulator.errors import invalid, missing_param, not_found
from stripe_emulator.forms import (
    get_bool,
    get_decimal,
    get_dict,
    get_dicts,
    get_int,
    get_list,
    get_str,
    metadata,
    req_str,
)
from stripe_emulator.pricing import price_scheme
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.search import search_customers
from stripe_emulator.shapes import customer_fields, price_fields, product_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.test_clocks import attachable_clock
from stripe_emulator.webhooks import emit

MAX_PLAN_TRIAL_DAYS = 730  # as for a subscription's trial_period_days


def _merge_metadata(obj: dict[str, Any], update: dict[str, str]) -> None:
    for key, value in update.items():
        if value == "":
            obj["metadata"].pop(key, None)
        else:
            obj["metadata"][key] = value


def _newest_first(req: Req, name: str) -> list[dict[str, Any]]:
    return [public(o) for o in reversed(list(req.emu.store.collection(name).values()))]


# -- customers ----------------------------------------------------------------------------
def create_customer(req: Req) -> Any:
    p = req.params
    customer = {
        **customer_fields(),
        "id": new_id("cus", 14),
        "object": "customer",
        "created": req.now,
        "description": get_str(p, "description"),
        "email": get_str(p, "email"),
        "livemode": False,
        "metadata": metadata(p),
        "name": get_str(p, "name"),
        "phone": get_str(p, "phone"),
        "test_clock": attachable_clock(req.emu, get_str(p, "test_clock")),
    }
    req.emu.store.put("customers", customer["id"], customer)
    emit(req.emu, "customer.created", public(customer))
    return public(customer)


def get_customer(req: Req, ident: str, param: str = "id") -> dict[str, Any]:
    customer = req.emu.store.find("customers", ident)
    if customer is None:
        raise not_found("customer", ident, param=param)
    return customer


def retrieve_customer(req: Req) -> Any:
    return public(get_customer(req, req.path_params["id"]))


def update_customer(req: Req) -> Any:
    customer = get_customer(req, req.path_params["id"])
    for key in ("name", "email", "description", "phone"):
        if key in req.params:
            customer[key] = get_str(req.params, key)
    _merge_metadata(customer, metadata(req.params))
    emit(req.emu, "customer.updated", public(customer))
    return public(customer)


def list_customers(req: Req) -> Any:
    email = get_str(req.params, "email")
    clock = get_str(req.params, "test_clock")
    items = [
        c
        for c in _newest_first(req, "customers")
        if email in (None, c["email"]) and clock in (None, c["test_clock"])
    ]
    return list_envelope(items, "/v1/customers", req.params)


# -- products -----------------------------------------------------------------------------
def new_product(req: Req, p: dict[str, Any], product_id: str | None = None) -> dict[str, Any]:
    product_id = product_id or new_id("prod", 14)
    if req.emu.store.get("products", product_id) is not None:
        raise invalid(
            f"Product already exists: {product_id}", param="id", code="resource_already_exists"
        )
    features = get_dicts(p, "marketing_features")
    product = {
        **product_fields(),
        "id": product_id,
        "object": "product",
        "active": get_bool(p, "active", True),
        "created": req.now,
        "description": get_str(p, "description"),
        "images": [str(i) for i in get_list(p, "images")],
        "livemode": False,
        "marketing_features": [{"name": get_str(f, "name")} for f in features],
        "metadata": metadata(p),
        "name": req_str(p, "name"),
        "type": get_str(p, "type") or "service",
        "updated": req.now,
    }
    if product["type"] not in ("service", "good"):
        raise invalid("Invalid type: must be one of good or service", param="type")
    req.emu.store.put("products", product["id"], product)
    return product


def create_product(req: Req) -> Any:
    return public(new_product(req, req.params, get_str(req.params, "id")))


def retrieve_product(req: Req) -> Any:
    product = req.emu.store.get("products", req.path_params["id"])
    if product is None:
        raise not_found("product", req.path_params["id"])
    return public(product)


def _active_filter(req: Req, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if req.params.get("active") in (None, ""):
        return items
    wanted = get_bool(req.params, "active", True)
    return [i for i in items if i["active"] == wanted]


def list_products(req: Req) -> Any:
    items = _active_filter(req, _newest_first(req, "products"))
    return list_envelope(items, "/v1/products", req.params)


# -- prices -------------------------------------------------------------------------------
def create_price(req: Req) -> Any:
    p = req.params
    currency = req_str(p, "currency").lower()
    product_id = get_str(p, "product")
    if product_id is None:
        product_data = get_dict(p, "product_data")
        if not product_data:
            raise missing_param("product")
        product_id = new_product(req, product_data)["id"]
    elif req.emu.store.get("products", product_id) is None:
        raise not_found("product", product_id, param="product")
    scheme = price_scheme(p)
    tiered = scheme["billing_scheme"] == "tiered"
    unit_amount = get_int(p, "unit_amount")
    unit_decimal = get_decimal(p, "unit_amount_decimal")
    if unit_amount is None and unit_decimal is None and not tiered:
        raise missing_param("unit_amount")
    if unit_decimal is None and unit_amount is not None:
        unit_decimal = Decimal(unit_amount)
    recurring_in = get_dict(p, "recurring")
    recurring = None
    if recurring_in:
        interval = req_str(recurring_in, "interval")
        if interval not in ("day", "week", "month", "year"):
            raise invalid(
                "recurring[interval] must be day, week, month or year", param="recurring[interval]"
            )
        recurring = {
            "interval": interval,
            "interval_count": get_int(recurring_in, "interval_count") or 1,
            "aggregate_usage": get_str(recurring_in, "aggregate_usage"),
            "meter": get_str(recurring_in, "meter"),
            "trial_period_days": _trial_days(recurring_in),
            "usage_type": get_str(recurring_in, "usage_type") or "licensed",
        }
        if recurring["usage_type"] not in ("licensed", "metered"):
            raise invalid(
                "recurring[usage_type] must be licensed or metered", param="recurring[usage_type]"
            )
    price = {
        **price_fields(),
        "id": new_id("price", 14),
        "object": "price",
        "active": get_bool(p, "active", True),
        "created": req.now,
        "currency": currency,
        "livemode": False,
        "lookup_key": get_str(p, "lookup_key"),
        "metadata": metadata(p),
        "nickname": get_str(p, "nickname"),
        "product": product_id,
        "recurring": recurring,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": None
        if unit_decimal is None or unit_decimal != int(unit_decimal)
        else int(unit_decimal),
        "unit_amount_decimal": None if unit_decimal is None else str(unit_decimal),
        **scheme,
    }
    req.emu.store.put("prices", price["id"], price)
    return public(price)


def get_price(req: Req, ident: str, param: str = "price") -> dict[str, Any]:
    price = req.emu.store.find("prices", ident)
    if price is None:
        raise not_found("price", ident, param=param)
    return price


def retrieve_price(req: Req) -> Any:
    return public(get_price(req, req.path_params["id"], "id"))


def list_prices(req: Req) -> Any:
    product = get_str(req.params, "product")
    items = [
        i
        for i in _active_filter(req, _newest_first(req, "prices"))
        if product in (None, i["product"])
    ]
    return list_envelope(items, "/v1/prices", req.params)


def register(router: Router) -> None:
    router.add("POST", "/v1/customers", create_customer)
    router.add("GET", "/v1/customers", list_customers)
    router.add("GET", "/v1/customers/search", search_customers)
    router.add("GET", "/v1/customers/{id}", retrieve_customer)
    router.add("POST", "/v1/customers/{id}", update_customer)
    router.add("POST", "/v1/products", create_product)
    router.add("GET", "/v1/products", list_products)
    router.add("GET", "/v1/products/{id}", retrieve_product)
    router.add("POST", "/v1/prices", create_price)
    router.add("GET", "/v1/prices", list_prices)
    router.add("GET", "/v1/prices/{id}", retrieve_price)


def _trial_days(recurring: dict[str, Any]) -> int | None:
    """`recurring[trial_period_days]`: the trial `trial_from_plan` gives a subscription."""
    days = get_int(recurring, "trial_period_days")
    if days is not None and not 0 <= days <= MAX_PLAN_TRIAL_DAYS:
        raise invalid(
            f"recurring[trial_period_days] must be between 0 and {MAX_PLAN_TRIAL_DAYS}.",
            param="recurring[trial_period_days]",
        )
    return days
