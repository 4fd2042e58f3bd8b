"""Changing a live subscription: `POST /v1/subscriptions/{id}` (items, quantities, prices,
`cancel_at_period_end`, metadata, prorations), `/v1/subscription_items`, and cancelling
with `invoice_now` / `prorate`.

Every change that moves money goes through `prorations.py`; every change emits
`customer.subscription.updated` with the attributes it changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_bool, get_dict, get_int, get_str, metadata
from stripe_emulator.invoices import finalize, item_line, new_invoice
from stripe_emulator.prorations import behavior, prorate_change, proration_time
from stripe_emulator.routing import Reply, Req, Router, list_envelope
from stripe_emulator.shapes import plan_from_price, subscription_item_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.sub_lifecycle import items_of, pending_items, render_sub, set_period
from stripe_emulator.sub_lines import cycle_lines
from stripe_emulator.test_clocks import customer_now
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

LIVE = ("active", "trialing", "past_due", "incomplete")
MAX_QUANTITY = 10**12


def merge_metadata(target: dict[str, str], update: dict[str, str]) -> None:
    """Stripe's metadata update: set each key; an empty string deletes it."""
    for key, value in update.items():
        if value == "":
            target.pop(key, None)
        else:
            target[key] = value


def get_sub(req: Req, ident: str, param: str = "id") -> dict[str, Any]:
    sub: dict[str, Any] | None = req.emu.store.get("subscriptions", ident)
    if sub is None:
        raise not_found("subscription", ident, param=param)
    return sub


def _live(sub: dict[str, Any]) -> None:
    if sub["status"] not in LIVE:
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )


def _price(req: Req, price_id: str | None, param: str, sub: dict[str, Any]) -> dict[str, Any]:
    price: dict[str, Any] | None = req.emu.store.get("prices", price_id) if price_id else None
    if price is None or price["recurring"] is None:
        raise invalid(f"{param} must be an existing recurring price.", param=param)
    if price["currency"] != sub["currency"]:
        raise invalid("All prices on a subscription must have the same currency.", param=param)
    current = items_of(req.emu, sub)[0]["price"]["recurring"] if sub["_items"] else None
    if current is not None and (current["interval"], current["interval_count"]) != (
        price["recurring"]["interval"],
        price["recurring"]["interval_count"],
    ):
        raise invalid(
            "The emulator does not model changing a subscription's billing "
            "interval: all items must share the current interval.",
            param=param,
            code="emulator_unsupported",
        )
    return price


def item_quantity(raw: dict[str, Any], param: str, default: int) -> int:
    """A subscription item's quantity: a whole number from 0 to 10^12."""
    quantity = get_int(raw, "quantity")
    if quantity is None:
        return default
    if not 0 <= quantity <= MAX_QUANTITY:
        raise invalid("Invalid quantity: must be between 0 and 10^12.", param=param)
    return quantity


def new_item(
    req: Req,
    sub: dict[str, Any],
    price: dict[str, Any],
    quantity: int,
    meta: dict[str, str],
    now: int,
) -> dict[str, Any]:
    item = {
        **subscription_item_fields(),
        "id": new_id("si", 14),
        "object": "subscription_item",
        "created": now,
        "current_period_end": sub["current_period_end"],
        "current_period_start": sub["current_period_start"],
        "metadata": meta,
        "plan": plan_from_price(price),
        "price": public(price),
        "quantity": quantity,
        "subscription": sub["id"],
    }
    req.emu.store.put("subscription_items", item["id"], item)
    sub["_items"].append(item["id"])
    return item


def apply_item_change(
    req: Req, sub: dict[str, Any], raw: dict[str, Any], index: int, when: int, prorate: bool
) -> None:
    """One `items[index]` entry: add an item (no `id`), delete one (`deleted`), or change
    its price / quantity / metadata, prorating from `when` if asked."""
    where = f"items[{index}]"
    item_id = get_str(raw, "id")
    if item_id is None:
        price = _price(req, get_str(raw, "price"), f"{where}[price]", sub)
        item = new_item(
            req, sub, price, item_quantity(raw, f"{where}[quantity]", 1), metadata(raw), when
        )
        if prorate:
            prorate_change(req.emu, sub, item["id"], None, (price, item["quantity"]), when)
        return
    if item_id not in sub["_items"]:
        raise invalid(
            f"Subscription item {item_id} is not on this subscription.", param=f"{where}[id]"
        )
    item = req.emu.store.get("subscription_items", item_id)
    before = (item["price"], item["quantity"])
    if get_bool(raw, "deleted", False):
        remove_item(req, sub, item, when, prorate)
        return
    price = (
        before[0]
        if get_str(raw, "price") is None
        else public(_price(req, get_str(raw, "price"), f"{where}[price]", sub))
    )
    quantity = item_quantity(raw, f"{where}[quantity]", item["quantity"])
    merge_metadata(item["metadata"], metadata(raw))
    if (price["id"], quantity) == (before[0]["id"], before[1]):
        return
    item.update(price=price, plan=plan_from_price(price), quantity=quantity)
    if prorate:
        prorate_change(req.emu, sub, item_id, before, (price, quantity), when)


def remove_item(
    req: Req, sub: dict[str, Any], item: dict[str, Any], when: int, prorate: bool
) -> None:
    if len(sub["_items"]) == 1:
        raise invalid(
            "A subscription must have at least one active item; cancel the subscription instead.",
            param="items",
        )
    if prorate:
        prorate_change(req.emu, sub, item["id"], (item["price"], item["quantity"]), None, when)
    sub["_items"].remove(item["id"])
    req.emu.store.collection("subscription_items").pop(item["id"], None)


def invoice_now(
    req: Req, sub: dict[str, Any], now: int, reason: str, usage_until: int | None = None
) -> dict[str, Any] | None:
    """Invoice pending items (prorations) at once, plus metered usage up to `usage_until`
    when the subscription ends; finalized immediately."""
    lines: list[dict[str, Any]] = []
    if usage_until is not None:
        lines = cycle_lines(
            req.emu,
            sub,
            items_of(req.emu, sub),
            start=sub["current_period_start"],
            end=usage_until,
            new_end=None,
            invoice_id=None,
            trial_ended=sub["status"] == "trialing",
        )
    pending = pending_items(req.emu, sub["customer"])
    if not lines and not pending:
        return None
    invoice = new_invoice(
        req.emu,
        sub["customer"],
        sub["currency"],
        created=now,
        period_start=sub["current_period_start"],
        period_end=now,
        auto_advance=False,
        billing_reason=reason,
        subscription=sub["id"],
        lines=lines + [item_line(i, "") for i in pending],
    )
    for item in pending:
        item["invoice"] = invoice["id"]
    invoice["auto_advance"] = True
    finalize(req.emu, invoice, now)
    sub["latest_invoice"] = invoice["id"]
    return invoice


def cancel_flags(emu: Emulator, sub: dict[str, Any], p: dict[str, Any], now: int) -> None:
    """`cancel_at_period_end` and `cancel_at`, as an update or a preview gives them."""
    if "cancel_at_period_end" in p:
        wanted = get_bool(p, "cancel_at_period_end", False)
        sub["cancel_at_period_end"] = wanted
        sub["cancel_at"] = sub["current_period_end"] if wanted else None
        sub["canceled_at"] = now if wanted else None
        sub["cancellation_details"]["reason"] = "cancellation_requested" if wanted else None
    if "cancel_at" in p:
        at = get_int(p, "cancel_at")
        if at is not None and at < now:
            raise invalid("cancel_at must be in the future.", param="cancel_at")
        sub["cancel_at"] = at
        sub["canceled_at"] = None if at is None else now
        if at is not None and sub["current_period_end"] > at:
            set_period(emu, sub, sub["current_period_start"], at)


def update_subscription(req: Req) -> Any:
    sub = get_sub(req, req.path_params["id"])
    p = req.params
    now = customer_now(req.emu, sub["customer"])
    before = render_sub(req.emu, sub)
    if set(p) - {"metadata", "cancellation_details", "expand"}:
        _live(sub)
    chosen = behavior(p)
    when = proration_time(p, sub, now)
    raw_items = p.get("items") or []
    if not isinstance(raw_items, list):
        raise invalid("Invalid array", param="items")
    prorate = chosen != "none" and sub["status"] != "trialing"
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=f"items[{index}]")
        apply_item_change(req, sub, raw, index, when, prorate)
    cancel_flags(req.emu, sub, p, now)
    if "description" in p:
        sub["description"] = get_str(p, "description")
    if get_str(p, "trial_end") == "now" and sub["status"] == "trialing":
        sub["trial_end"] = now
        sub["current_period_end"] = now
    merge_metadata(sub["metadata"], metadata(p))
    if chosen == "always_invoice" and raw_items:
        invoice_now(req, sub, now, "subscription_update")
    view = render_sub(req.emu, sub)
    changed = {k: before.get(k) for k in view if view[k] != before.get(k)}
    emit(req.emu, "customer.subscription.updated", view, changed)
    if get_str(p, "trial_end") == "now":
        from stripe_emulator.sub_lifecycle import renew_due

        renew_due(req.emu, now, sub.get("test_clock"))
        view = render_sub(req.emu, sub)
    return view


def cancel_subscription(req: Req) -> Any:
    """Cancel now; `prorate` credits the unused time of licensed items, `invoice_now`
    bills metered usage so far and pending items (prorations) on a final invoice."""
    sub = get_sub(req, req.path_params["id"])
    if sub["status"] == "canceled":
        raise invalid(
            f"No such subscription: '{sub['id']}'; it is already canceled.",
            code="resource_missing",
            param="id",
        )
    p, now = req.params, customer_now(req.emu, sub["customer"])
    if get_bool(p, "prorate", False) and sub["status"] != "trialing":
        for item in items_of(req.emu, sub):
            prorate_change(req.emu, sub, item["id"], (item["price"], item["quantity"]), None, now)
    if get_bool(p, "invoice_now", False):
        invoice_now(req, sub, now, "subscription_cycle", usage_until=now)
    details = get_dict(p, "cancellation_details")
    sub["cancellation_details"].update(
        reason="cancellation_requested",
        comment=get_str(details, "comment"),
        feedback=get_str(details, "feedback"),
    )
    sub.update(status="canceled", canceled_at=now, ended_at=now)
    emit(req.emu, "customer.subscription.deleted", render_sub(req.emu, sub))
    return render_sub(req.emu, sub)


# -- /v1/subscription_items -----------------------------------------------------------
def _get_item(req: Req) -> dict[str, Any]:
    item: dict[str, Any] | None = req.emu.store.get("subscription_items", req.path_params["id"])
    if item is None:
        raise not_found("subscription_item", req.path_params["id"])
    return item


def _item_change(req: Req, sub: dict[str, Any], raw: dict[str, Any]) -> Any:
    _live(sub)
    before = render_sub(req.emu, sub)
    now = customer_now(req.emu, sub["customer"])
    chosen = behavior(req.params)
    when = proration_time(req.params, sub, now)
    apply_item_change(req, sub, raw, 0, when, chosen != "none" and sub["status"] != "trialing")
    if chosen == "always_invoice":
        invoice_now(req, sub, now, "subscription_update")
    emit(
        req.emu,
        "customer.subscription.updated",
        render_sub(req.emu, sub),
        {"items": before["items"]},
    )


def create_item(req: Req) -> Any:
    sub = get_sub(req, str(get_str(req.params, "subscription", required=True)), "subscription")
    known = set(sub["_items"])
    _item_change(
        req, sub, {k: v for k, v in req.params.items() if k in ("price", "quantity", "metadata")}
    )
    added = next(i for i in sub["_items"] if i not in known)
    return public(req.emu.store.get("subscription_items", added))


def retrieve_item(req: Req) -> Any:
    return public(_get_item(req))


def update_item(req: Req) -> Any:
    item = _get_item(req)
    sub = req.emu.store.get("subscriptions", item["subscription"])
    _item_change(
        req,
        sub,
        {
            "id": item["id"],
            **{k: v for k, v in req.params.items() if k in ("price", "quantity", "metadata")},
        },
    )
    return public(item)


def delete_item(req: Req) -> Any:
    item = _get_item(req)
    sub = req.emu.store.get("subscriptions", item["subscription"])
    _item_change(req, sub, {"id": item["id"], "deleted": "true"})
    return Reply({"id": item["id"], "object": "subscription_item", "deleted": True})


def list_items(req: Req) -> Any:
    sub = get_sub(req, str(get_str(req.params, "subscription", required=True)), "subscription")
    items = [public(i) for i in items_of(req.emu, sub)]
    return list_envelope(items, "/v1/subscription_items", req.params)


def register(router: Router) -> None:
    router.add("POST", "/v1/subscriptions/{id}", update_subscription)
    router.add("POST", "/v1/subscription_items", create_item)
    router.add("GET", "/v1/subscription_items", list_items)
    router.add("GET", "/v1/subscription_items/{id}", retrieve_item)
    router.add("POST", "/v1/subscription_items/{id}", update_item)
    router.add("DELETE", "/v1/subscription_items/{id}", delete_item)
