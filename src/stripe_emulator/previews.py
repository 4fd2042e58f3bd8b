"""`POST /v1/invoices/create_preview`: the invoice a subscription will bill next, with or
without proposed changes (`subscription_details`).

The preview runs the real code paths — the proposed changes with their prorations, the
renewal that would follow, finalization with its credits — on the live state, renders
the invoice, then puts the state back as it was. So a preview agrees to the cent with
what the renewal then bills, tiers, prorations and credits included.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_bool, get_dict, get_str
from stripe_emulator.invoices import finalize, new_invoice, render
from stripe_emulator.prorations import behavior, prorate_change
from stripe_emulator.routing import Req, Router
from stripe_emulator.store import new_id
from stripe_emulator.sub_changes import apply_item_change, cancel_flags, invoice_now
from stripe_emulator.sub_lifecycle import items_of, renew_once
from stripe_emulator.test_clocks import customer_now

LIVE = ("active", "trialing", "past_due")


def _subscription(req: Req, customer: str | None) -> dict[str, Any] | None:
    """The named subscription, else the customer's next one to renew."""
    sub_id = get_str(req.params, "subscription")
    if sub_id is not None:
        sub: dict[str, Any] | None = req.emu.store.get("subscriptions", sub_id)
        if sub is None:
            raise not_found("subscription", sub_id, param="subscription")
        if sub["status"] not in LIVE:
            raise invalid(
                "The subscription is canceled: it has no upcoming invoice.",
                param="subscription",
                code="invoice_upcoming_none",
            )
        if customer is not None and sub["customer"] != customer:
            raise invalid("The subscription belongs to a different customer.", param="subscription")
        return sub
    live = [
        s
        for s in req.emu.store.collection("subscriptions").values()
        if s["customer"] == customer and s["status"] in LIVE
    ]
    return min(live, key=lambda s: s["current_period_end"]) if live else None


def _apply_details(
    req: Req, sub: dict[str, Any], details: dict[str, Any], now: int
) -> dict[str, Any] | None:
    """Make the proposed changes; returns the invoice they bill at once, if any."""
    chosen = behavior(details)
    prorate = chosen != "none" and sub["status"] != "trialing"
    raw_items = details.get("items") or []
    if not isinstance(raw_items, list):
        raise invalid("Invalid array", param="subscription_details[items]")
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=f"subscription_details[items][{index}]")
        apply_item_change(req, sub, raw, index, now, prorate)
    cancel_flags(req.emu, sub, details, now)
    if get_bool(details, "cancel_now", False):
        if prorate:
            for item in items_of(req.emu, sub):
                prorate_change(
                    req.emu, sub, item["id"], (item["price"], item["quantity"]), None, now
                )
        return invoice_now(req, sub, now, "subscription_cycle", usage_until=now)
    if chosen == "always_invoice" and raw_items:
        return invoice_now(req, sub, now, "subscription_update")
    return None


def _next_renewal(req: Req, sub: dict[str, Any]) -> dict[str, Any]:
    """Cross the subscription's next boundary and finalize what it bills."""
    end = sub["current_period_end"]
    invoice_id = renew_once(req.emu, sub)
    if invoice_id is None:
        raise invalid(
            "The subscription has nothing to bill at its next period end.",
            param="subscription",
            code="invoice_upcoming_none",
        )
    invoice: dict[str, Any] = req.emu.store.get("invoices", invoice_id)
    finalize(req.emu, invoice, end)
    return invoice


def _new_subscription(req: Req, customer: str, details: dict[str, Any]) -> dict[str, Any]:
    """A subscription that does not exist yet: the invoice its creation would bill."""
    from stripe_emulator.subscriptions import create_subscription

    sub_req = Req(
        "POST",
        "/v1/subscriptions",
        {
            "customer": customer,
            **{
                k: v
                for k, v in details.items()
                if k in ("items", "trial_end", "cancel_at_period_end")
            },
        },
        {},
        req.headers,
        req.emu,
    )
    view = create_subscription(sub_req)
    invoice: dict[str, Any] = req.emu.store.get("invoices", view["latest_invoice"])
    return invoice


def _preview(req: Req) -> dict[str, Any]:
    p = req.params
    customer = get_str(p, "customer")
    if customer is not None and req.emu.store.get("customers", customer) is None:
        raise not_found("customer", customer, param="customer")
    details = get_dict(p, "subscription_details")
    sub = _subscription(req, customer)
    if sub is None and customer is not None and details.get("items"):
        return _new_subscription(req, customer, details)
    if sub is None:
        if customer is None:
            raise invalid(
                "Missing required param: customer or subscription.",
                param="customer",
                code="parameter_missing",
            )
        return _pending_only(req, customer)
    now = customer_now(req.emu, sub["customer"])
    immediate = _apply_details(req, sub, details, now) if details else None
    return immediate if immediate is not None else _next_renewal(req, sub)


def _pending_only(req: Req, customer: str) -> dict[str, Any]:
    from stripe_emulator.invoices import item_line
    from stripe_emulator.sub_lifecycle import pending_items

    pending = pending_items(req.emu, customer)
    if not pending:
        raise invalid(
            "No upcoming invoices for customer.", param="customer", code="invoice_upcoming_none"
        )
    now = customer_now(req.emu, customer)
    invoice = new_invoice(
        req.emu,
        customer,
        pending[0]["currency"],
        created=now,
        period_start=now,
        period_end=now,
        auto_advance=False,
        billing_reason="upcoming",
        lines=[item_line(i, "") for i in pending],
    )
    finalize(req.emu, invoice, now)
    return invoice


# What a preview never writes: usage, its indexes and the request log. Leaving them out of
# the rehearsal's snapshot keeps a preview's cost independent of how much usage is stored.
UNTOUCHED = frozenset(
    {
        "meter_events",
        "meter_event_adjustments",
        "meter_event_sessions",
        "usage_records",
        "idempotency",
    }
)
UNTOUCHED_EXTRA = frozenset({"identifier_index"})


def create_preview(req: Req) -> Any:
    store = req.emu.store
    saved = {
        name: copy.deepcopy(items) for name, items in store.data.items() if name not in UNTOUCHED
    }
    saved_extra = {k: copy.deepcopy(v) for k, v in store.extra.items() if k not in UNTOUCHED_EXTRA}
    try:
        invoice = _preview(req)
        view = render(req.emu, invoice)
    finally:
        store.data.update(saved)
        store.extra = {
            **{k: v for k, v in store.extra.items() if k in UNTOUCHED_EXTRA},
            **saved_extra,
        }
    view.update(
        id="upcoming_" + new_id("in"),
        number=None,
        status="draft",
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        effective_at=None,
        ending_balance=None,
        automatically_finalizes_at=None,
        amount_paid=0,
        amount_remaining=view["amount_due"],
    )
    for line in view["lines"]["data"]:
        line["invoice"] = view["id"]
    return view


def register(router: Router) -> None:
    router.add("POST", "/v1/invoices/create_preview", create_preview)
