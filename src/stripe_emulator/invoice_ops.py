"""Invoice operations beyond the basics: `mark_uncollectible`, updating a draft's line
(`POST /v1/invoices/{id}/lines/{line}`), deleting an invoice item, and failed payments
(`invoice.payment_failed`).

The emulator models no payment methods. A customer can be told to fail payments through
the control surface (`POST /_emulator/customers/{id}/payment_failure`): then `pay` answers
Stripe's 402 `card_declined`, and an auto-advancing invoice's automatic attempt at
finalization fails, each sending `invoice.payment_failed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import StripeError, invalid, not_found
from stripe_emulator.forms import get_bool, get_str, metadata
from stripe_emulator.invoice_items import update_invoice_item
from stripe_emulator.invoices import detach_item, get_invoice, render
from stripe_emulator.routing import Reply, Req, Router
from stripe_emulator.store import public
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

RETRY_AFTER = 3 * 86400
ITEM_FIELDS = (
    "amount",
    "description",
    "discountable",
    "metadata",
    "period",
    "pricing",
    "quantity",
    "quantity_decimal",
)


def fails_payments(emu: Emulator, customer_id: str) -> bool:
    customer = emu.store.get("customers", customer_id) or {}
    return bool(customer.get("_fail_payments"))


def fail_attempt(emu: Emulator, invoice: dict[str, Any], now: int) -> None:
    """Record a declined attempt and tell the listeners, as Stripe does."""
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    invoice["next_payment_attempt"] = now + RETRY_AFTER if invoice["auto_advance"] else None
    invoice["last_finalization_error"] = None
    emit(emu, "invoice.payment_failed", render(emu, invoice))


def attempt_automatic_payment(emu: Emulator, invoice: dict[str, Any], now: int) -> None:
    """Finalization's automatic attempt: fails only for customers told to fail."""
    if (
        invoice["auto_advance"]
        and invoice["amount_due"] > 0
        and fails_payments(emu, invoice["customer"])
    ):
        fail_attempt(emu, invoice, now)


def check_payment(emu: Emulator, invoice: dict[str, Any], now: int, out_of_band: bool) -> None:
    """`pay`: a customer told to fail gets Stripe's decline (after the event is sent)."""
    if out_of_band or not fails_payments(emu, invoice["customer"]):
        return
    fail_attempt(emu, invoice, now)
    emu.persist()  # the failed attempt is recorded even though the request fails
    raise StripeError(402, "Your card was declined.", type="card_error", code="card_declined")


def mark_uncollectible(req: Req) -> Any:
    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] != "open":
        raise invalid(
            "You can only mark an open invoice as uncollectible.", code="invoice_not_editable"
        )
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = req.now
    invoice["next_payment_attempt"] = None
    emit(req.emu, "invoice.marked_uncollectible", render(req.emu, invoice))
    return render(req.emu, invoice)


def update_line(req: Req) -> Any:
    """A draft's line: an invoice item's line updates the item (and so the line); a
    subscription line only takes description, discountable and metadata."""
    invoice = get_invoice(req, req.path_params["id"])
    if invoice["status"] != "draft":
        raise invalid(
            "Invoice lines can only be updated on draft invoices.", code="invoice_not_editable"
        )
    line = next((li for li in invoice["_lines"] if li["id"] == req.path_params["line"]), None)
    if line is None:
        raise not_found("line_item", req.path_params["line"])
    item_id = ((line.get("parent") or {}).get("invoice_item_details") or {}).get("invoice_item")
    p = req.params
    if item_id is not None:
        update_invoice_item(
            Req(
                "POST",
                f"/v1/invoiceitems/{item_id}",
                {k: v for k, v in p.items() if k in ITEM_FIELDS},
                {"id": item_id},
                req.headers,
                req.emu,
            )
        )
        line = next(li for li in invoice["_lines"] if li["id"] == req.path_params["line"])
        return public(line)
    priced = [k for k in ("amount", "quantity", "quantity_decimal", "pricing", "period") if k in p]
    if priced:
        raise invalid(
            f"{priced[0]} can only be changed on lines of invoice items; change "
            "the subscription instead.",
            param=priced[0],
        )
    if "description" in p:
        line["description"] = get_str(p, "description")
    if "discountable" in p:
        line["discountable"] = get_bool(p, "discountable", True)
    for key, value in metadata(p).items():
        if value == "":
            line["metadata"].pop(key, None)
        else:
            line["metadata"][key] = value
    return public(line)


def delete_item(req: Req) -> Any:
    item = req.emu.store.get("invoice_items", req.path_params["id"])
    if item is None:
        raise not_found("invoiceitem", req.path_params["id"])
    invoice = None if item["invoice"] is None else req.emu.store.get("invoices", item["invoice"])
    if invoice is not None:
        if invoice["status"] != "draft":
            raise invalid(
                f"Invoice {invoice['id']} is {invoice['status']}: its items can no "
                "longer be deleted.",
                param="invoice",
                code="invoice_not_editable",
            )
        detach_item(invoice, item)
    del req.emu.store.collection("invoice_items")[item["id"]]
    emit(req.emu, "invoiceitem.deleted", public(item))
    return Reply({"id": item["id"], "object": "invoiceitem", "deleted": True})


def set_payment_failure(req: Req) -> Any:
    """Control surface: make a customer's payments fail (`{"fail": true}`) or succeed."""
    customer = req.emu.store.get("customers", req.path_params["id"])
    if customer is None:
        raise not_found("customer", req.path_params["id"])
    fail = req.params.get("fail", True)
    if not isinstance(fail, bool):
        raise invalid("`fail` must be a boolean", param="fail")
    customer["_fail_payments"] = fail
    return {"customer": customer["id"], "fail_payments": fail}


def register(router: Router) -> None:
    router.add("POST", "/v1/invoices/{id}/mark_uncollectible", mark_uncollectible)
    router.add("POST", "/v1/invoices/{id}/lines/{line}", update_line)
    router.add("DELETE", "/v1/invoiceitems/{id}", delete_item)


def register_control(router: Router) -> None:
    router.add("POST", "/_emulator/customers/{id}/payment_failure", set_payment_failure)
