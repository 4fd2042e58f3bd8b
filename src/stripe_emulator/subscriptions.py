"""Subscriptions (items, billing cycle anchor, renewals on clock advance) and legacy
usage records for accounts pinned to an API version before 2025-03-31.basil."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.aggregation import aggregate
from stripe_emulator.errors import StripeError, invalid, missing_param, not_found
from stripe_emulator.forms import get_int, get_str, metadata, req_str
from stripe_emulator.invoices import add_line, cents, new_invoice
from stripe_emulator.meter_events import usage_events
from stripe_emulator.periods import next_boundary
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.shapes import (
    line_fields,
    plan_from_price,
    subscription_fields,
    subscription_item_fields,
)
from stripe_emulator.store import new_id, public
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

USAGE_RECORDS_REMOVED_IN = "2025-03-31"


def _render(emu: Emulator, sub: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(sub)
    items = [public(emu.store.get("subscription_items", i)) for i in sub["_items"]]
    view["items"] = {"object": "list", "data": items, "has_more": False,
                     "total_count": len(items),
                     "url": f"/v1/subscription_items?subscription={sub['id']}"}
    return view


def create_subscription(req: Req) -> Any:
    p, emu, now = req.params, req.emu, req.now
    customer = req_str(p, "customer")
    if emu.store.get("customers", customer) is None:
        raise not_found("customer", customer, param="customer")
    raw_items = p.get("items")
    if not raw_items or not isinstance(raw_items, list):
        raise missing_param("items")
    prices = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=f"items[{index}]")
        price = emu.store.get("prices", str(raw.get("price")))
        if price is None or price["recurring"] is None:
            raise invalid(f"items[{index}][price] must be an existing recurring price.",
                          param=f"items[{index}][price]")
        prices.append((price, get_int(raw, "quantity") or 1, metadata(raw)))
    recurring = prices[0][0]["recurring"]
    anchor = get_int(p, "billing_cycle_anchor") or now
    if anchor < now:
        raise invalid("billing_cycle_anchor cannot be in the past.", param="billing_cycle_anchor")
    end = anchor if anchor > now else next_boundary(anchor, now, recurring["interval"],
                                                     recurring["interval_count"])
    sub: dict[str, Any] = {
        **subscription_fields(),
        "id": new_id("sub"), "object": "subscription", "billing_cycle_anchor": anchor,
        "created": now,
        "currency": prices[0][0]["currency"], "current_period_end": end,
        "current_period_start": now, "customer": customer, "livemode": False,
        "metadata": metadata(p), "start_date": now, "status": "active",
        "_items": [], "_periods": [[now, end]],
    }
    for price, quantity, item_meta in prices:
        item = {**subscription_item_fields(),
                "id": new_id("si", 14), "object": "subscription_item", "created": now,
                "current_period_end": end, "current_period_start": now, "metadata": item_meta,
                "plan": plan_from_price(price), "price": public(price), "quantity": quantity,
                "subscription": sub["id"]}
        emu.store.put("subscription_items", item["id"], item)
        sub["_items"].append(item["id"])
    emu.store.put("subscriptions", sub["id"], sub)
    emit(emu, "customer.subscription.created", _render(emu, sub))
    return _render(emu, sub)


def _get_sub(req: Req) -> dict[str, Any]:
    sub = req.emu.store.find("subscriptions", req.path_params["id"])
    if sub is None:
        raise not_found("subscription", req.path_params["id"])
    return sub


def retrieve_subscription(req: Req) -> Any:
    return _render(req.emu, _get_sub(req))


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
    items = [_render(req.emu, s) for s in
             reversed(list(req.emu.store.collection("subscriptions").values()))
             if _listed(req, s)]
    return list_envelope(items, "/v1/subscriptions", req.params)


def cancel_subscription(req: Req) -> Any:
    sub = _get_sub(req)
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["ended_at"] = req.now
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    emit(req.emu, "customer.subscription.deleted", _render(req.emu, sub))
    return _render(req.emu, sub)


def _records_total(emu: Emulator, item: dict[str, Any], start: int, end: int) -> Decimal:
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


def _usage(emu: Emulator, sub: dict[str, Any], item: dict[str, Any], start: int, end: int
           ) -> Decimal:
    meter_id = item["price"]["recurring"].get("meter")
    if meter_id is None:
        return _records_total(emu, item, start, end)
    meter = emu.store.get("meters", meter_id)
    if meter is None:
        return Decimal(0)
    events = [e for e in usage_events(emu.store, meter_id, sub["customer"])
              if start <= e.timestamp < end]
    return aggregate(meter["default_aggregation"]["formula"], events)


def renew_due(emu: Emulator, now: int) -> list[str]:
    """Roll every subscription whose period ended; each renewal creates a draft invoice."""
    created = []
    for sub in list(emu.store.collection("subscriptions").values()):
        while sub["status"] == "active" and sub["current_period_end"] <= now:
            start, end = sub["current_period_start"], sub["current_period_end"]
            items = [emu.store.get("subscription_items", i) for i in sub["_items"]]
            rec = items[0]["price"]["recurring"]
            new_end = next_boundary(sub["billing_cycle_anchor"], end, rec["interval"],
                                    rec["interval_count"])
            invoice = new_invoice(emu, sub["customer"], sub["currency"], created=end,
                                  period_start=start, period_end=end, auto_advance=True,
                                  billing_reason="subscription_cycle", subscription=sub["id"])
            for item in items:
                price = item["price"]
                metered = price["recurring"]["usage_type"] == "metered"
                qty = _usage(emu, sub, item, start, end) if metered else Decimal(item["quantity"])
                line_period = {"start": start, "end": end} if metered else \
                    {"start": end, "end": new_end}
                amount = cents(qty * Decimal(price["unit_amount_decimal"]))
                add_line(invoice, {
                    **line_fields(),
                    "id": new_id("il"), "object": "line_item", "amount": amount,
                    "currency": price["currency"], "invoice": invoice["id"],
                    "parent": {"type": "subscription_item_details",
                               "invoice_item_details": None,
                               "subscription_item_details": {
                                   "invoice_item": None, "proration": False,
                                   "proration_details": {"credited_items": None},
                                   "subscription": sub["id"], "subscription_item": item["id"]}},
                    "period": line_period,
                    "pricing": {"type": "price_details",
                                "price_details": {"price": price["id"],
                                                  "product": price["product"]},
                                "unit_amount_decimal": price["unit_amount_decimal"]},
                    "quantity": int(qty) if qty == int(qty) else None,
                    "quantity_decimal": str(qty), "subscription": sub["id"], "subtotal": amount,
                })
                item["current_period_start"], item["current_period_end"] = end, new_end
            sub["current_period_start"], sub["current_period_end"] = end, new_end
            sub["_periods"].append([end, new_end])
            sub["latest_invoice"] = invoice["id"]
            created.append(invoice["id"])
    return created


# -- legacy usage records -----------------------------------------------------------------
def _require_legacy_version(req: Req) -> None:
    version = req.stripe_version or ""
    if not version or version[:10] >= USAGE_RECORDS_REMOVED_IN:
        raise StripeError(404, "Usage records are not available in API version "
                          f"{version or 'unknown'}: they were removed in 2025-03-31.basil. "
                          "Use Billing Meters, or pin an earlier Stripe-Version.")


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
        raise invalid("Cannot create the usage record with this timestamp because timestamps "
                      "must be after the subscription's last invoice period (or current "
                      "period start time).", param="timestamp")
    action = get_str(p, "action") or "increment"
    if action not in ("increment", "set"):
        raise invalid("action must be one of increment, set", param="action")
    key = f"{item['id']}@{ts}"
    existing = req.emu.store.get("usage_records", key)
    value = Decimal(quantity)
    if action == "increment" and existing is not None:
        value += Decimal(existing["_value"])
    record = {"id": new_id("mbur"), "object": "usage_record", "livemode": False,
              "quantity": quantity, "subscription_item": item["id"], "timestamp": ts,
              "_value": str(value), "_action": action}
    req.emu.store.put("usage_records", key, record)
    return public(record)


def usage_record_summaries(req: Req) -> Any:
    _require_legacy_version(req)
    item = _get_item(req)
    sub = req.emu.store.get("subscriptions", item["subscription"])
    summaries = []
    for start, end in reversed(sub["_periods"]):
        total = _records_total(req.emu, item, start, end)
        summaries.append({"id": f"sis_{item['id'][3:]}_{start}",
                          "object": "usage_record_summary", "invoice": None, "livemode": False,
                          "period": {"start": start, "end": end},
                          "subscription_item": item["id"], "total_usage": int(total)})
    return list_envelope(summaries,
                         f"/v1/subscription_items/{item['id']}/usage_record_summaries", req.params)


def register(router: Router) -> None:
    router.add("POST", "/v1/subscriptions", create_subscription)
    router.add("GET", "/v1/subscriptions", list_subscriptions)
    router.add("GET", "/v1/subscriptions/{id}", retrieve_subscription)
    router.add("DELETE", "/v1/subscriptions/{id}", cancel_subscription)
    router.add("POST", "/v1/subscription_items/{id}/usage_records", create_usage_record)
    router.add("GET", "/v1/subscription_items/{id}/usage_record_summaries",
               usage_record_summaries)
