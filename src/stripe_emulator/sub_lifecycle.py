"""A subscription's life on the clock: trials and the invoice at creation, renewals at each
period boundary (pending invoice items such as prorations join the renewal invoice),
`cancel_at_period_end`, and the events Stripe sends along the way.

Customers attached to a test clock live on that clock's time: the emulator's own clock
renews only the subscriptions of customers without a test clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid
from stripe_emulator.forms import get_bool, get_int, get_str
from stripe_emulator.invoices import finalize, item_line, new_invoice
from stripe_emulator.periods import next_boundary
from stripe_emulator.store import public
from stripe_emulator.sub_added_items import AddedItem, announce, create_added_items
from stripe_emulator.sub_lines import cycle_lines, opening_lines
from stripe_emulator.test_clocks import customer_clock
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

DAY = 86400
TRIAL_WILL_END_NOTICE = 3 * DAY
MAX_TRIAL_DAYS = 730


def items_of(emu: Emulator, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [emu.store.get("subscription_items", i) for i in sub["_items"]]


def render_sub(emu: Emulator, sub: dict[str, Any]) -> dict[str, Any]:
    """The API view of a subscription, its items inlined as a list."""
    view: dict[str, Any] = public(sub)
    items = [public(i) for i in items_of(emu, sub)]
    view["items"] = {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={sub['id']}",
    }
    return view


def trial_end_from(
    params: dict[str, Any], now: int, prices: list[dict[str, Any]] | None = None
) -> int | None:
    """`trial_end` (a timestamp or `now`) or `trial_period_days`, checked as Stripe does;
    at creation also `trial_from_plan`: the longest `recurring[trial_period_days]` of the
    subscribed prices (none set: no trial)."""
    raw_end = get_str(params, "trial_end")
    days = get_int(params, "trial_period_days")
    if get_bool(params, "trial_from_plan", False):
        if raw_end is not None or days is not None:
            raise invalid(
                "You cannot set trial_from_plan together with trial_end or trial_period_days.",
                param="trial_from_plan",
            )
        plan_days = [int(p["recurring"].get("trial_period_days") or 0) for p in prices or []]
        days = max(plan_days, default=0)
    if raw_end is not None and days is not None:
        raise invalid(
            "You may only specify one of trial_end and trial_period_days.", param="trial_end"
        )
    if days is not None:
        if not 0 <= days <= MAX_TRIAL_DAYS:
            raise invalid(
                f"trial_period_days must be between 0 and {MAX_TRIAL_DAYS}.",
                param="trial_period_days",
            )
        return now + days * DAY if days else None
    if raw_end is None or raw_end == "now":
        return None
    end = get_int(params, "trial_end")
    assert end is not None
    if end <= now + 1:
        raise invalid(
            "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
        )
    if end > now + MAX_TRIAL_DAYS * DAY:
        raise invalid("trial_end can be no more than 730 days in the future.", param="trial_end")
    return end


def set_period(emu: Emulator, sub: dict[str, Any], start: int, end: int) -> None:
    sub["current_period_start"], sub["current_period_end"] = start, end
    for item in items_of(emu, sub):
        item["current_period_start"], item["current_period_end"] = start, end


def start_subscription(
    emu: Emulator,
    sub: dict[str, Any],
    params: dict[str, Any],
    now: int,
    trial_end: int | None,
    added: list[AddedItem] | None = None,
) -> None:
    """Apply a trial (`trial_end_from`, checked before the subscription was stored), then
    bill the opening invoice with the `add_invoice_items` (finalized at once, as Stripe does
    for automatically charged subscriptions)."""
    sub["test_clock"] = customer_clock(emu, sub["customer"])
    if trial_end is not None:
        sub.update(
            status="trialing",
            trial_start=now,
            trial_end=trial_end,
            billing_cycle_anchor=trial_end,
            _periods=[[now, trial_end]],
        )
        set_period(emu, sub, now, trial_end)
    if str(params.get("cancel_at_period_end")).lower() == "true":
        sub.update(cancel_at_period_end=True, cancel_at=sub["current_period_end"], canceled_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    _cancel_at(emu, sub, get_int(params, "cancel_at"), now)
    lines = opening_lines(
        sub,
        items_of(emu, sub),
        start=now,
        end=sub["current_period_end"],
        invoice_id=None,
        trial=trial_end is not None,
    )
    extras = create_added_items(emu, added or [], sub, now)
    invoice = new_invoice(
        emu,
        sub["customer"],
        sub["currency"],
        created=now,
        period_start=now,
        period_end=now,
        auto_advance=False,
        billing_reason="subscription_create",
        subscription=sub["id"],
        lines=lines + [item_line(i, "") for i in extras],
    )
    for extra in extras:
        extra["invoice"] = invoice["id"]
    announce(emu, extras)
    invoice["auto_advance"] = True
    finalize(emu, invoice, now)
    sub["latest_invoice"] = invoice["id"]


def _cancel_at(emu: Emulator, sub: dict[str, Any], at: int | None, now: int) -> None:
    """`cancel_at` at creation: the subscription ends then (a first period it shortens
    stops there, a later one is stopped by `renew_once`)."""
    if at is None:
        return
    if at <= now:
        raise invalid("cancel_at must be in the future.", param="cancel_at")
    sub.update(cancel_at=at, canceled_at=now)
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    if at < sub["current_period_end"]:
        sub["_periods"][-1][1] = at
        set_period(emu, sub, sub["current_period_start"], at)


def pending_items(emu: Emulator, customer: str) -> list[dict[str, Any]]:
    return [
        i
        for i in emu.store.collection("invoice_items").values()
        if i["customer"] == customer and i["invoice"] is None
    ]


def _boundary_invoice(
    emu: Emulator, sub: dict[str, Any], start: int, end: int, new_end: int | None, trial: bool
) -> dict[str, Any] | None:
    lines = cycle_lines(
        emu,
        sub,
        items_of(emu, sub),
        start=start,
        end=end,
        new_end=new_end,
        invoice_id=None,
        trial_ended=trial,
    )
    pending = pending_items(emu, sub["customer"])
    if not lines and not pending:
        return None
    invoice = new_invoice(
        emu,
        sub["customer"],
        sub["currency"],
        created=end,
        period_start=start,
        period_end=end,
        auto_advance=True,
        billing_reason="subscription_cycle",
        subscription=sub["id"],
        lines=lines + [item_line(i, "") for i in pending],
    )
    for item in pending:
        item["invoice"] = invoice["id"]
    return invoice


def _ends_at(sub: dict[str, Any], end: int) -> bool:
    cancel_at = sub.get("cancel_at")
    return bool(sub["cancel_at_period_end"]) or (cancel_at is not None and cancel_at <= end)


def renew_once(emu: Emulator, sub: dict[str, Any]) -> str | None:
    """Cross one period boundary: bill it, then roll the period or end the subscription."""
    start, end = sub["current_period_start"], sub["current_period_end"]
    rec = items_of(emu, sub)[0]["price"]["recurring"]
    ending = _ends_at(sub, end)
    new_end = (
        None
        if ending
        else next_boundary(sub["billing_cycle_anchor"], end, rec["interval"], rec["interval_count"])
    )
    cancel_at = sub.get("cancel_at")
    if new_end is not None and cancel_at is not None and cancel_at < new_end:
        new_end = cancel_at  # the last period stops at `cancel_at`, which then ends it
    trial = sub["status"] == "trialing"
    invoice = _boundary_invoice(emu, sub, start, end, new_end, trial)
    previous: dict[str, Any] = {"latest_invoice": sub["latest_invoice"]}
    if invoice is not None:
        sub["latest_invoice"] = invoice["id"]
    if new_end is None:
        sub.update(status="canceled", ended_at=end, canceled_at=sub["canceled_at"] or end)
        emit(emu, "customer.subscription.deleted", render_sub(emu, sub))
    else:
        if trial:
            previous["status"] = "trialing"
            sub["status"] = "active"
        previous["items"] = render_sub(emu, sub)["items"]
        set_period(emu, sub, end, new_end)
        sub["_periods"].append([end, new_end])
        emit(emu, "customer.subscription.updated", render_sub(emu, sub), previous)
    return None if invoice is None else str(invoice["id"])


def _trial_notice(emu: Emulator, sub: dict[str, Any], now: int) -> None:
    if (
        sub["status"] == "trialing"
        and not sub.get("_trial_notice")
        and sub["trial_end"] - TRIAL_WILL_END_NOTICE <= now
    ):
        sub["_trial_notice"] = True
        emit(emu, "customer.subscription.trial_will_end", render_sub(emu, sub))


def renew_due(emu: Emulator, now: int, clock: str | None = None) -> list[str]:
    """Roll every subscription of `clock` (a test clock, or none) whose period ended."""
    created = []
    for sub in list(emu.store.collection("subscriptions").values()):
        if sub.get("test_clock") != clock:
            continue
        _trial_notice(emu, sub, now)
        while sub["status"] in ("active", "trialing") and sub["current_period_end"] <= now:
            invoice_id = renew_once(emu, sub)
            if invoice_id is not None:
                created.append(invoice_id)
    return created
