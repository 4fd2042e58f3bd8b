"""Subscriptions (creation, items, billing cycle anchor; renewals and trials live in
`sub_lifecycle.py`, changes and cancellation in `sub_changes.py`) and legacy
usage records for accounts pinned to an API version before 2025-03-31.basil."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripe_emulator.errors import StripeError, invalid, missing_param, not_found
from stripe_emulator.forms import get_int, get_str, metadata, req_str
from stripe_emulator.periods import next_boundary
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.shapes import (
    plan_from_price,
    subscription_fields,
    subscription_item_fields,
)
from stripe_emulator.store import new_id, public
from stripe_emulator.sub_added_items import parse_added_items
from stripe_emulator.sub_changes import cancel_subscription, item_quantity
from stripe_emulator.sub_lifecycle import render_sub, start_subscription, trial_end_from
from stripe_emulator.sub_lines import records_total
from stripe_emulator.test_clocks import customer_now
from stripe_emulator.webhooks import emit

USAGE_RECORDS_REMOVED_IN = "2025-03-31"


def create_subscription(req: Req) -> Any:
    p, emu = req.params, req.emu
    customer = req_str(p, "customer")
    if emu.store.get("customers", customer) is None:
        raise not_found("customer", customer, param="customer")
    now = customer_now(emu, customer)
    raw_items = p.get("items")
    if not raw_items or not isinstance(raw_items, list):
        raise missing_param("items")
    prices = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=f"items[{index}]")
        price = emu.store.get("prices", str(raw.get("price")))
        if price is None or price["recurring"] is None:
            raise invalid(
                f"items[{index}][price] must be an existing recurring price.",
                param=f"items[{index}][price]",
            )
        prices.append((price, item_quantity(raw, f"items[{index}][quantity]", 1), metadata(raw)))
    trial_end = trial_end_from(p, now, [price for price, _, _ in prices])
    added = parse_added_items(emu, p, prices[0][0]["currency"])
    recurring = prices[0][0]["recurring"]
    anchor = get_int(p, "billing_cycle_anchor") or now
    if anchor < now:
        raise invalid("billing_cycle_anchor cannot be in the past.", param="billing_cycle_anchor")
    end = (
        anchor
        if anchor > now
        else next_boundary(anchor, now, recurring["interval"], recurring["interval_count"])
    )
    sub: dict[str, Any] = {
        **subscription_fields(),
        "id": new_id("sub"),
        "object": "subscription",
        "billing_cycle_anchor": anchor,
        "created": now,
        "currency": prices[0][0]["currency"],
        "current_period_end": end,
        "current_period_start": now,
        "customer": customer,
        "livemode": False,
        "metadata": metadata(p),
        "start_date": now,
        "status": "active",
        "_items": [],
        "_periods": [[now, end]],
    }
    for price, quantity, item_meta in prices:
        item = {
            **subscription_item_fields(),
            "id": new_id("si", 14),
            "object": "subscription_item",
            "created": now,
            "current_period_end": end,
            "current_period_start": now,
            "metadata": item_meta,
            "plan": plan_from_price(price),
            "price": public(price),
            "quantity": quantity,
            "subscription": sub["id"],
        }
        emu.store.put("subscription_items", item["id"], item)
        sub["_items"].append(item["id"])
    emu.store.put("subscriptions", sub["id"], sub)
    start_subscription(emu, sub, p, now, trial_end, added)
    emit(emu, "customer.subscription.created", render_sub(emu, sub))
    return render_sub(emu, sub)


def _get_sub(req: Req) -> dict[str, Any]:
    sub = req.emu.store.find("subscriptions", req.path_params["id"])
    if sub is None:
        raise not_found("subscription", req.path_params["id"])
    return sub


def retrieve_subscription(req: Req) -> Any:
    return render_sub(req.emu, _get_sub(req))


def _listed(req: Req, sub: dict[str, Any]) -> bool:
    p = req.params
    status = p.get("status")
    if status is None and sub["status"] == "canceled":  # Stripe's default hides them
        return False
    if status not in (None, "all", sub["status"]):
        return False
    prices = {req.emu.store.get("subscription_items", i)["price"]["id"] for i in sub["_items"]}
    return p.get("customer") in (None, sub["customer"]) and p.get("price") in (None, *prices)


def list_subscriptions(req: Req) -> Any:
    items = [
        render_sub(req.emu, s)
        for s in reversed(list(req.emu.store.collection("subscriptions").values()))
        if _listed(req, s)
    ]
    return list_envelope(items, "/v1/subscriptions", req.params)


# -- legacy usage records -----------------------------------------------------------------
def _require_legacy_version(req: Req) -> None:
    version = req.stripe_version or ""
    if not version or version[:10] >= USAGE_RECORDS_REMOVED_IN:
        raise StripeError(
            404,
            "Usage records are not available in API version "
            f"{version or 'unknown'}: they were removed in 2025-03-31.basil. "
            "Use Billing Meters, or pin an earlier Stripe-Version.",
        )


def _get_item(req: Req) -> dict[str, Any]:
    item = req.emu.store.find("subscription_items", req.path_params["id"])
    if item is None:
        raise not_found("subscription_item", req.path_params["id"])
    return item


def create_usage_record(req: Req) -> Any:
    _require_legacy_version(req)
    item = _get_item(req)
    p, now = req.params, req.now
    quantity = get_int(p, "quantity", required=True)
    assert quantity is not None
    raw_ts = get_str(p, "timestamp")
    ts = now if raw_ts in (None, "now") else get_int(p, "timestamp")
    assert ts is not None
    if ts < item["current_period_start"] or ts > max(now, item["current_period_end"]) + 300:
        raise invalid(
            "Cannot create the usage record with this timestamp because timestamps "
            "must be after the subscription's last invoice period (or current "
            "period start time).",
            param="timestamp",
        )
    action = get_str(p, "action") or "increment"
    if action not in ("increment", "set"):
        raise invalid("action must be one of increment, set", param="action")
    key = f"{item['id']}@{ts}"
    existing = req.emu.store.get("usage_records", key)
    value = Decimal(quantity)
    if action == "increment" and existing is not None:
        value += Decimal(existing["_value"])
    record = {
        "id": new_id("mbur"),
        "object": "usage_record",
        "livemode": False,
        "quantity": quantity,
        "subscription_item": item["id"],
        "timestamp": ts,
        "_value": str(value),
        "_action": action,
    }
    req.emu.store.put("usage_records", key, record)
    return public(record)


def usage_record_summaries(req: Req) -> Any:
    _require_legacy_version(req)
    item = _get_item(req)
    sub = req.emu.store.get("subscriptions", item["subscription"])
    summaries = []
    for start, end in reversed(sub["_periods"]):
        total = records_total(req.emu, item, start, end)
        summaries.append(
            {
                "id": f"sis_{item['id'][3:]}_{start}",
                "object": "usage_record_summary",
                "invoice": None,
                "livemode": False,
                "period": {"start": start, "end": end},
                "subscription_item": item["id"],
                "total_usage": int(total),
            }
        )
    return list_envelope(
        summaries, f"/v1/subscription_items/{item['id']}/usage_record_summaries", req.params
    )


def register(router: Router) -> None:
    router.add("POST", "/v1/subscriptions", create_subscription)
    router.add("GET", "/v1/subscriptions", list_subscriptions)
    router.add("GET", "/v1/subscriptions/{id}", retrieve_subscription)
    router.add("DELETE", "/v1/subscriptions/{id}", cancel_subscription)  # sub_changes.py
    router.add("POST", "/v1/subscription_items/{id}/usage_records", create_usage_record)
    router.add("GET", "/v1/subscription_items/{id}/usage_record_summaries", usage_record_summaries)
