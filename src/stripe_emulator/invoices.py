"""Invoices: drafts that accept items (≤ 250), finalize to `open`, totals, and automatic
finalization one hour after `invoice.created` is delivered (items: `invoice_items.py`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.credits import apply_credits, restore_credits
from stripe_emulator.customer_balance import apply_balance
from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import (
    get_bool,
    get_str,
    metadata,
    req_str,
)
from stripe_emulator.routing import Reply, Req, Router, list_envelope
from stripe_emulator.shapes import invoice_fields, line_fields
from stripe_emulator.store import new_id, public
from stripe_emulator.webhooks import emit, listeners

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

MAX_ITEMS_PER_INVOICE = 250
NO_DELIVERY_FALLBACK = 72 * 3600


def cents(value: Decimal) -> int:
    """Round a decimal amount to whole minor units, half up."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def new_invoice(
    emu: Emulator,
    customer: str,
    currency: str,
    *,
    created: int,
    period_start: int,
    period_end: int,
    auto_advance: bool,
    billing_reason: str,
    subscription: str | None = None,
    meta: dict[str, str] | None = None,
    description: str | None = None,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Create a draft invoice (with `lines`, if given), emit `invoice.created` and schedule
    auto-finalization."""
    who = emu.store.get("customers", customer) or {}
    invoice: dict[str, Any] = {
        **invoice_fields(),
        "id": new_id("in"),
        "object": "invoice",
        "auto_advance": auto_advance,
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_email": who.get("email"),
        "customer_name": who.get("name"),
        "customer_phone": who.get("phone"),
        "description": description,
        "livemode": False,
        "metadata": meta or {},
        "number": None,
        "parent": None
        if subscription is None
        else {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": subscription, "metadata": {}},
        },
        "period_end": period_end,
        "period_start": period_start,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": subscription,
        "subtotal": 0,
        "test_clock": who.get("test_clock"),
        "total": 0,
        "_lines": [],
    }
    for line in lines or []:
        line["invoice"] = invoice["id"]
        invoice["_lines"].append(line)
    recompute(invoice)
    if auto_advance:
        wait = NO_DELIVERY_FALLBACK if listeners(emu, "invoice.created") else 0
        invoice["automatically_finalizes_at"] = (
            created + wait + (0 if wait else emu.config.invoice_finalize_grace)
        )
    emu.store.put("invoices", invoice["id"], invoice)
    emit(emu, "invoice.created", render(emu, invoice))
    return invoice


def add_line(invoice: dict[str, Any], line: dict[str, Any]) -> None:
    invoice["_lines"].append(line)
    recompute(invoice)


def recompute(invoice: dict[str, Any]) -> None:
    total = sum(line["amount"] for line in invoice["_lines"])
    for key in ("subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"):
        invoice[key] = total
    invoice["amount_due"] = total
    invoice["amount_remaining"] = total - invoice["amount_paid"]


def render(emu: Emulator, invoice: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(invoice)
    lines = [public(line) for line in invoice["_lines"]]
    view["lines"] = {
        "object": "list",
        "data": lines[:10],
        "has_more": len(lines) > 10,
        "total_count": len(lines),
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    return view


def finalize(emu: Emulator, invoice: dict[str, Any], now: int) -> None:
    apply_credits(emu, invoice, now)  # billing credits reduce metered lines (credits.py)
    apply_balance(emu, invoice)  # then the customer's balance (customer_balance.py)
    invoice["status"] = "open"
    invoice["status_transitions"]["finalized_at"] = now
    invoice["effective_at"] = now
    invoice["automatically_finalizes_at"] = None
    count = int(emu.store.extra.get("invoice_number", 0)) + 1
    emu.store.extra["invoice_number"] = count
    invoice["number"] = f"EMU-{count:06d}"
    emit(emu, "invoice.finalized", render(emu, invoice))
    if invoice["amount_due"] == 0:
        invoice["status"] = "paid"
        invoice["status_transitions"]["paid_at"] = now
        emit(emu, "invoice.paid", render(emu, invoice))
    else:
        from stripe_emulator.invoice_ops import attempt_automatic_payment

        attempt_automatic_payment(emu, invoice, now)


def on_created_delivered(emu: Emulator, invoice_id: str, now: int) -> None:
    """Stripe finalizes an auto-advancing draft an hour after `invoice.created` succeeds."""
    invoice = emu.store.get("invoices", invoice_id)
    if invoice is None or invoice["status"] != "draft" or not invoice["auto_advance"]:
        return
    if invoice.get("test_clock"):  # a test clock's invoice finalizes on the clock's time
        from stripe_emulator.test_clocks import customer_now

        now = customer_now(emu, invoice["customer"])
    deadline = now + emu.config.invoice_finalize_grace
    current = invoice["automatically_finalizes_at"]
    invoice["automatically_finalizes_at"] = deadline if current is None else min(current, deadline)


def finalize_due(emu: Emulator, now: int, clock: str | None = None) -> list[str]:
    """Finalize every auto-advancing draft whose time has come (clock advance hook); only
    the drafts of `clock`'s customers (a test clock), or of no test clock."""
    done = []
    for invoice in list(emu.store.collection("invoices").values()):
        if invoice.get("test_clock") != clock:
            continue
        due = invoice["automatically_finalizes_at"]
        if (
            invoice["status"] == "draft"
            and invoice["auto_advance"]
            and due is not None
            and due <= now
        ):
            finalize(emu, invoice, now)
            done.append(invoice["id"])
    return done


def get_invoice(req: Req, ident: str, param: str = "id") -> dict[str, Any]:
    invoice = req.emu.store.find("invoices", ident)
    if invoice is None:
        raise not_found("invoice", ident, param=param)
    return invoice


def item_line(item: dict[str, Any], invoice_id: str) -> dict[str, Any]:
    """The invoice line that mirrors an invoice item."""
    return {
        **line_fields(),
        "id": "il_" + item["id"][3:],
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discountable": item["discountable"],
        "invoice": invoice_id,
        "metadata": dict(item["metadata"]),
        "parent": {
            "type": "invoice_item_details",
            "subscription_item_details": None,
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": item["proration"],
                "proration_details": {"credited_items": None},
                "subscription": item.get("_subscription"),
            },
        },
        "period": dict(item["period"]),
        "pricing": item["pricing"],
        "quantity": item["quantity"],
        "quantity_decimal": item["quantity_decimal"],
        "subtotal": item["amount"],
    }


def attach_item(invoice: dict[str, Any], item: dict[str, Any]) -> None:
    if len(invoice["_lines"]) >= MAX_ITEMS_PER_INVOICE:
        raise invalid(
            f"An invoice cannot have more than {MAX_ITEMS_PER_INVOICE} invoice items.",
            param="invoice",
            code="invoice_too_many_items",
        )
    item["invoice"] = invoice["id"]
    add_line(invoice, item_line(item, invoice["id"]))


def sync_item_line(invoice: dict[str, Any], item: dict[str, Any]) -> None:
    """Replace an item's line after the item changed, then recompute the totals."""
    fresh = item_line(item, invoice["id"])
    invoice["_lines"] = [
        fresh if line.get("id") == fresh["id"] else line for line in invoice["_lines"]
    ]
    recompute(invoice)


def detach_item(invoice: dict[str, Any], item: dict[str, Any]) -> None:
    line_id = "il_" + item["id"][3:]
    invoice["_lines"] = [line for line in invoice["_lines"] if line.get("id") != line_id]
    item["invoice"] = None
    recompute(invoice)


# -- invoice routes -----------------------------------------------------------------------
def create_invoice(req: Req) -> Any:
    p = req.params
    customer_id = req_str(p, "customer")
    if req.emu.store.get("customers", customer_id) is None:
        raise not_found("customer", customer_id, param="customer")
    invoice = new_invoice(
        req.emu,
        customer_id,
        (get_str(p, "currency") or "usd").lower(),
        created=req.now,
        period_start=req.now,
        period_end=req.now,
        auto_advance=get_bool(p, "auto_advance", False),
        billing_reason="manual",
        meta=metadata(p),
        description=get_str(p, "description"),
    )
    if get_str(p, "pending_invoice_items_behavior") == "include":
        for item in req.emu.store.collection("invoice_items").values():
            if item["customer"] == customer_id and item["invoice"] is None:
                attach_item(invoice, item)
    return render(req.emu, invoice)


def retrieve_invoice(req: Req) -> Any:
    return render(req.emu, get_invoice(req, req.path_params["id"]))


def list_invoices(req: Req) -> Any:
    p = req.params
    items = [
        render(req.emu, i)
        for i in reversed(list(req.emu.store.collection("invoices").values()))
        if all(p.get(k) in (None, i.get(k)) for k in ("customer", "status", "subscription"))
    ]
    return list_envelope(items, "/v1/invoices", p)


def list_lines(req: Req) -> Any:
    invoice = get_invoice(req, req.path_params["id"])
    return list_envelope(
        [public(line) for line in invoice["_lines"]],
        f"/v1/invoices/{invoice['id']}/lines",
        req.params,
    )


def update_invoice(req: Req) -> Any:
    """`auto_advance`, `description`, `metadata` of a draft. Turning `auto_advance` off stops
    automatic finalization (the invoice stays a draft until finalized by hand); turning it
    back on schedules finalization one grace period (an hour) later, as Stripe does."""
    invoice = get_invoice(req, req.path_params["id"])
    p = req.params
    if "auto_advance" in p:
        if invoice["status"] != "draft":
            raise invalid(
                "auto_advance can only be changed on a draft invoice.",
                param="auto_advance",
                code="invoice_not_editable",
            )
        invoice["auto_advance"] = get_bool(p, "auto_advance", False)
        invoice["automatically_finalizes_at"] = (
            req.now + req.emu.config.invoice_finalize_grace if invoice["auto_advance"] else None
        )
    if "description" in p:
        invoice["description"] = get_str(p, "description")
    for key, value in metadata(p).items():
        if value == "":
            invoice["metadata"].pop(key, None)
        else:
            invoice["metadata"][key] = value
    emit(req.emu, "invoice.updated", render(req.emu, invoice))
    return render(req.emu, invoice)


def finalize_invoice(req: Req) -> Any:
    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] != "draft":
        raise invalid(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    if "auto_advance" in req.params:
        invoice["auto_advance"] = get_bool(req.params, "auto_advance", False)
    finalize(req.emu, invoice, req.now)
    return render(req.emu, invoice)


def pay_invoice(req: Req) -> Any:
    from stripe_emulator.invoice_ops import check_payment

    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid("Only open invoices can be paid.", code="invoice_not_editable")
    check_payment(req.emu, invoice, req.now, get_bool(req.params, "paid_out_of_band", False))
    invoice["status"] = "paid"
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["status_transitions"]["paid_at"] = req.now
    emit(req.emu, "invoice.paid", render(req.emu, invoice))
    return render(req.emu, invoice)


def void_invoice(req: Req) -> Any:
    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid("Only open invoices can be voided.", code="invoice_not_editable")
    invoice["status"] = "void"
    invoice["status_transitions"]["voided_at"] = req.now
    restore_credits(req.emu, invoice, req.now)
    emit(req.emu, "invoice.voided", render(req.emu, invoice))
    return render(req.emu, invoice)


def delete_invoice(req: Req) -> Any:
    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] != "draft":
        raise invalid("You can only delete draft invoices.", code="invoice_not_editable")
    del req.emu.store.collection("invoices")[invoice["id"]]
    for item in req.emu.store.collection("invoice_items").values():
        if item["invoice"] == invoice["id"]:
            item["invoice"] = None
    emit(req.emu, "invoice.deleted", render(req.emu, invoice))
    return Reply({"id": invoice["id"], "object": "invoice", "deleted": True})


def register(router: Router) -> None:
    router.add("POST", "/v1/invoices", create_invoice)
    router.add("GET", "/v1/invoices", list_invoices)
    router.add("GET", "/v1/invoices/{id}", retrieve_invoice)
    router.add("POST", "/v1/invoices/{id}", update_invoice)
    router.add("DELETE", "/v1/invoices/{id}", delete_invoice)
    router.add("GET", "/v1/invoices/{id}/lines", list_lines)
    router.add("POST", "/v1/invoices/{id}/finalize", finalize_invoice)
    router.add("POST", "/v1/invoices/{id}/pay", pay_invoice)
    router.add("POST", "/v1/invoices/{id}/void", void_invoice)
