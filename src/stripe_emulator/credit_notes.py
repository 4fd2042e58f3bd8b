"""Credit notes (`/v1/credit_notes`: create, preview, list, retrieve, lines, void).

On an open invoice a credit note is `pre_payment`: it lowers the amount due (an invoice
credited down to zero is paid). On a paid invoice it is `post_payment`: the amount is split
between `credit_amount` (to the customer's balance), `refund_amount` and
`out_of_band_amount`, all of it credited to the balance when none is named. A note never
credits more than what remains creditable on its invoice or on one of its lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripe_emulator.customer_balance import record
from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_decimal, get_int, get_str, metadata
from stripe_emulator.invoices import render
from stripe_emulator.pricing import MAX_AMOUNT, cents
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.test_clocks import customer_now
from stripe_emulator.webhooks import emit

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
MAX_LINES = 500


def _notes_of(req: Req, invoice_id: str) -> list[dict[str, Any]]:
    return [
        n
        for n in req.emu.store.collection("credit_notes").values()
        if n["invoice"] == invoice_id and n["status"] == "issued"
    ]


def _credited_line(req: Req, invoice_id: str, line_id: str) -> int:
    return sum(
        line["amount"]
        for n in _notes_of(req, invoice_id)
        for line in n["_lines"]
        if line["invoice_line_item"] == line_id
    )


def _base_line(
    kind: str,
    amount: int,
    description: str | None,
    quantity: int | None,
    unit: Decimal | None,
    line_id: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id("cnli"),
        "object": "credit_note_line_item",
        "amount": amount,
        "description": description,
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": line_id,
        "livemode": False,
        "metadata": {},
        "pretax_credit_amounts": [],
        "quantity": quantity,
        "tax_rates": [],
        "taxes": [],
        "type": kind,
        "unit_amount": None if unit is None or unit != int(unit) else int(unit),
        "unit_amount_decimal": None if unit is None else str(unit),
    }


def _invoice_line(
    req: Req, invoice: dict[str, Any], raw: dict[str, Any], where: str
) -> dict[str, Any]:
    line_id = get_str(raw, "invoice_line_item", required=True)
    line = next((li for li in invoice["_lines"] if li["id"] == line_id), None)
    if line is None:
        raise invalid(
            f"Invoice line item {line_id} is not on invoice {invoice['id']}.",
            param=f"{where}[invoice_line_item]",
        )
    amount = get_int(raw, "amount")
    quantity = get_int(raw, "quantity")
    if quantity is not None and not 0 < quantity <= MAX_AMOUNT:
        raise invalid("quantity must be positive and at most 10^12.", param=f"{where}[quantity]")
    unit = Decimal(line["pricing"]["unit_amount_decimal"] or 0) if line.get("pricing") else None
    if amount is None:
        amount = line["amount"] if quantity is None or unit is None else cents(unit * quantity)
    net = line["amount"] - sum(c["amount"] for c in line.get("pretax_credit_amounts") or [])
    if amount > net - _credited_line(req, invoice["id"], str(line_id)):
        raise invalid(
            "The credit note amount for this line exceeds what remains creditable on it.",
            param=f"{where}[amount]",
        )
    return _base_line(
        "invoice_line_item",
        amount,
        get_str(raw, "description") or line["description"],
        quantity,
        unit,
        line_id,
    )


def _custom_line(raw: dict[str, Any], where: str) -> dict[str, Any]:
    unit = get_decimal(raw, "unit_amount_decimal")
    if unit is None and get_int(raw, "unit_amount") is not None:
        unit = Decimal(int(get_int(raw, "unit_amount") or 0))
    if unit is None:
        raise invalid(
            "A custom line needs unit_amount.",
            param=f"{where}[unit_amount]",
            code="parameter_missing",
        )
    quantity = get_int(raw, "quantity") or 1
    if not (0 <= unit <= MAX_AMOUNT and 0 < quantity <= MAX_AMOUNT):
        raise invalid(
            "unit_amount and quantity must be positive and at most 10^12.",
            param=f"{where}[unit_amount]",
        )
    description = get_str(raw, "description", required=True)
    return _base_line("custom_line_item", cents(unit * quantity), description, quantity, unit, None)


def _lines(req: Req, invoice: dict[str, Any], p: dict[str, Any]) -> list[dict[str, Any]]:
    raw_lines = p.get("lines") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > MAX_LINES:
        raise invalid(f"lines must be an array of at most {MAX_LINES} lines.", param="lines")
    lines = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=where)
        kind = get_str(raw, "type", required=True)
        if kind == "invoice_line_item":
            lines.append(_invoice_line(req, invoice, raw, where))
        elif kind == "custom_line_item":
            lines.append(_custom_line(raw, where))
        else:
            raise invalid(
                "type must be invoice_line_item or custom_line_item.", param=f"{where}[type]"
            )
    amount = get_int(p, "amount")
    if not lines:
        if amount is None:
            raise invalid("Provide lines or amount.", param="amount", code="parameter_missing")
        lines = [
            _base_line(
                "custom_line_item", amount, get_str(p, "memo") or "Credit", 1, Decimal(amount), None
            )
        ]
    elif amount is not None and amount != sum(li["amount"] for li in lines):
        raise invalid("amount must equal the sum of the lines' amounts.", param="amount")
    return lines


def _split(p: dict[str, Any], total: int, paid: bool) -> dict[str, int]:
    parts = {
        k: get_int(p, k) or 0 for k in ("credit_amount", "refund_amount", "out_of_band_amount")
    }
    if not paid:
        return dict.fromkeys(parts, 0)
    if not any(parts.values()):
        parts["credit_amount"] = total
    if sum(parts.values()) != total:
        raise invalid(
            f"The sum of credit amount, refund amount and out of band amount "
            f"({sum(parts.values())}) must equal the credit note amount ({total}).",
            param="amount",
        )
    return parts


def build(req: Req) -> tuple[dict[str, Any], dict[str, Any], dict[str, int]]:
    """The credit note the parameters describe (not stored), its invoice and the split."""
    p = req.params
    invoice_id = str(get_str(p, "invoice", required=True))
    invoice: dict[str, Any] | None = req.emu.store.get("invoices", invoice_id)
    if invoice is None:
        raise not_found("invoice", invoice_id, param="invoice")
    if invoice["status"] not in ("open", "paid"):
        raise invalid(
            "Credit notes can only be issued for open or paid invoices.",
            param="invoice",
            code="invoice_not_editable",
        )
    lines = _lines(req, invoice, p)
    total = sum(li["amount"] for li in lines)
    credited = sum(n["total"] for n in _notes_of(req, invoice_id))
    if total <= 0 or total > invoice["total"] - credited:
        raise invalid(
            f"The credit note total ({total}) must be positive and at most the "
            f"invoice's remaining creditable amount ({invoice['total'] - credited}).",
            param="amount",
        )
    reason = get_str(p, "reason")
    if reason not in (None, *REASONS):
        raise invalid(f"reason must be one of {', '.join(REASONS)}.", param="reason")
    paid = invoice["status"] == "paid"
    split = _split(p, total, paid)
    now = customer_now(req.emu, invoice["customer"])
    note = {
        "id": new_id("cn"),
        "object": "credit_note",
        "amount": total,
        "amount_shipping": 0,
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": now,
        "invoice": invoice_id,
        "livemode": False,
        "memo": get_str(p, "memo"),
        "metadata": metadata(p),
        "number": f"{invoice['number']}-CN-{len(_notes_of(req, invoice_id)) + 1:02d}",
        "out_of_band_amount": split["out_of_band_amount"] or None,
        "pdf": "",
        "post_payment_amount": total if paid else 0,
        "pre_payment_amount": 0 if paid else total,
        "pretax_credit_amounts": [],
        "reason": reason,
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_excluding_tax": total,
        "total_taxes": [],
        "type": "post_payment" if paid else "pre_payment",
        "voided_at": None,
        "_lines": lines,
    }
    return note, invoice, split


def view(note: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = public(note)
    lines = [public(li) for li in note["_lines"]]
    out["lines"] = {
        "object": "list",
        "data": lines[:10],
        "has_more": len(lines) > 10,
        "total_count": len(lines),
        "url": f"/v1/credit_notes/{note['id']}/lines",
    }
    return out


def _apply(req: Req, note: dict[str, Any], invoice: dict[str, Any], split: dict[str, int]) -> None:
    emu, total, now = req.emu, note["total"], note["created"]
    if note["type"] == "pre_payment":
        invoice["pre_payment_credit_notes_amount"] += total
        invoice["amount_due"] -= total
        invoice["amount_remaining"] -= total
        if invoice["amount_remaining"] <= 0:
            invoice["status"] = "paid"
            invoice["status_transitions"]["paid_at"] = now
            emit(emu, "invoice.paid", render(emu, invoice))
    else:
        invoice["post_payment_credit_notes_amount"] += total
        if split["credit_amount"]:
            customer = emu.store.get("customers", invoice["customer"])
            txn = record(
                emu,
                customer,
                -split["credit_amount"],
                invoice["currency"],
                "credit_note",
                credit_note=note["id"],
                invoice=invoice["id"],
            )
            note["customer_balance_transaction"] = txn["id"]
    emit(emu, "invoice.updated", render(emu, invoice))


def create_note(req: Req) -> Any:
    note, invoice, split = build(req)
    req.emu.store.put("credit_notes", note["id"], note)
    _apply(req, note, invoice, split)
    emit(req.emu, "credit_note.created", view(note))
    return view(note)


def preview_note(req: Req) -> Any:
    return view(build(req)[0])


def preview_lines(req: Req) -> Any:
    note = build(req)[0]
    return list_envelope(
        [public(li) for li in note["_lines"]], "/v1/credit_notes/preview/lines", req.params
    )


def _get(req: Req) -> dict[str, Any]:
    note: dict[str, Any] | None = req.emu.store.get("credit_notes", req.path_params["id"])
    if note is None:
        raise not_found("credit_note", req.path_params["id"])
    return note


def retrieve_note(req: Req) -> Any:
    return view(_get(req))


def list_notes(req: Req) -> Any:
    p = req.params
    notes = [
        view(n)
        for n in reversed(list(req.emu.store.collection("credit_notes").values()))
        if p.get("invoice") in (None, n["invoice"]) and p.get("customer") in (None, n["customer"])
    ]
    return list_envelope(notes, "/v1/credit_notes", p)


def list_note_lines(req: Req) -> Any:
    note = _get(req)
    return list_envelope(
        [public(li) for li in note["_lines"]], f"/v1/credit_notes/{note['id']}/lines", req.params
    )


def void_note(req: Req) -> Any:
    """Voiding undoes the note: the amount due comes back on an open invoice, the balance
    credit is taken back on a paid one."""
    note = _get(req)
    emu = req.emu
    if note["status"] == "void":
        raise invalid("This credit note is already voided.")
    invoice = emu.store.get("invoices", note["invoice"])
    if note["type"] == "pre_payment":
        if invoice["status"] != "open":
            raise invalid(
                "A pre-payment credit note can only be voided while its invoice is open.",
                param="id",
            )
        invoice["pre_payment_credit_notes_amount"] -= note["total"]
        invoice["amount_due"] += note["total"]
        invoice["amount_remaining"] += note["total"]
    else:
        invoice["post_payment_credit_notes_amount"] -= note["total"]
        txn = emu.store.get(
            "customer_balance_transactions", note["customer_balance_transaction"] or ""
        )
        if txn is not None:
            record(
                emu,
                emu.store.get("customers", note["customer"]),
                -txn["amount"],
                note["currency"],
                "credit_note",
                credit_note=note["id"],
                invoice=invoice["id"],
            )
    note["status"] = "void"
    note["voided_at"] = customer_now(emu, note["customer"])
    emit(emu, "credit_note.voided", view(note))
    return view(note)


def register(router: Router) -> None:
    router.add("POST", "/v1/credit_notes", create_note)
    router.add("GET", "/v1/credit_notes", list_notes)
    router.add("GET", "/v1/credit_notes/preview", preview_note)
    router.add("GET", "/v1/credit_notes/preview/lines", preview_lines)
    router.add("GET", "/v1/credit_notes/{id}", retrieve_note)
    router.add("GET", "/v1/credit_notes/{id}/lines", list_note_lines)
    router.add("POST", "/v1/credit_notes/{id}/void", void_note)
