"""Customer balance transactions (`/v1/customers/{id}/balance_transactions`) and applying
the balance when an invoice is finalized.

A negative balance is credit the customer holds: finalization takes as much of it as the
invoice's amount due (`applied_to_invoice`), recording `starting_balance` and
`ending_balance` on the invoice; a positive balance (the customer owes) is added to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_int, get_str, metadata
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.test_clocks import customer_now

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

MAX_AMOUNT = 10**11


def record(
    emu: Emulator,
    customer: dict[str, Any],
    amount: int,
    currency: str,
    kind: str,
    *,
    invoice: str | None = None,
    credit_note: str | None = None,
    description: str | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Move the customer's balance by `amount` and record why."""
    if customer["currency"] not in (None, currency):
        raise invalid(f"The customer's balance is in {customer['currency']}.", param="currency")
    customer["currency"] = currency
    customer["balance"] += amount
    txn: dict[str, Any] = {
        "id": new_id("cbtxn"),
        "object": "customer_balance_transaction",
        "amount": amount,
        "checkout_session": None,
        "created": customer_now(emu, customer["id"]),
        "credit_note": credit_note,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "description": description,
        "ending_balance": customer["balance"],
        "invoice": invoice,
        "livemode": False,
        "metadata": meta or {},
        "type": kind,
    }
    emu.store.put("customer_balance_transactions", txn["id"], txn)
    return txn


def apply_balance(emu: Emulator, invoice: dict[str, Any]) -> None:
    """Finalization: settle the invoice's amount due against the customer's balance."""
    customer = emu.store.get("customers", invoice["customer"])
    if customer is None or customer["currency"] not in (None, invoice["currency"]):
        return
    balance = customer["balance"]
    invoice["starting_balance"] = balance
    due = invoice["amount_due"]
    applied = max(balance, -due) if balance < 0 else balance
    if applied:
        record(
            emu,
            customer,
            -applied,
            invoice["currency"],
            "applied_to_invoice",
            invoice=invoice["id"],
        )
    invoice["ending_balance"] = customer["balance"]
    invoice["amount_due"] = due + applied
    invoice["amount_remaining"] = invoice["amount_due"] - invoice["amount_paid"]


def _customer(req: Req) -> dict[str, Any]:
    customer: dict[str, Any] | None = req.emu.store.get("customers", req.path_params["id"])
    if customer is None:
        raise not_found("customer", req.path_params["id"])
    return customer


def create_transaction(req: Req) -> Any:
    customer = _customer(req)
    p = req.params
    amount = get_int(p, "amount", required=True)
    assert amount is not None
    if amount == 0 or abs(amount) > MAX_AMOUNT:
        raise invalid("amount must be a non-zero integer.", param="amount")
    currency = (get_str(p, "currency", required=True) or "").lower()
    txn = record(
        req.emu,
        customer,
        amount,
        currency,
        "adjustment",
        description=get_str(p, "description"),
        meta=metadata(p),
    )
    return public(txn)


def _get(req: Req) -> dict[str, Any]:
    customer = _customer(req)
    txn: dict[str, Any] | None = req.emu.store.get(
        "customer_balance_transactions", req.path_params["txn"]
    )
    if txn is None or txn["customer"] != customer["id"]:
        raise not_found("customer_balance_transaction", req.path_params["txn"])
    return txn


def retrieve_transaction(req: Req) -> Any:
    return public(_get(req))


def update_transaction(req: Req) -> Any:
    txn = _get(req)
    if "description" in req.params:
        txn["description"] = get_str(req.params, "description")
    for key, value in metadata(req.params).items():
        if value == "":
            txn["metadata"].pop(key, None)
        else:
            txn["metadata"][key] = value
    return public(txn)


def list_transactions(req: Req) -> Any:
    customer = _customer(req)
    txns = [
        public(t)
        for t in reversed(list(req.emu.store.collection("customer_balance_transactions").values()))
        if t["customer"] == customer["id"]
    ]
    return list_envelope(txns, f"/v1/customers/{customer['id']}/balance_transactions", req.params)


def register(router: Router) -> None:
    base = "/v1/customers/{id}/balance_transactions"
    router.add("POST", base, create_transaction)
    router.add("GET", base, list_transactions)
    router.add("GET", base + "/{txn}", retrieve_transaction)
    router.add("POST", base + "/{txn}", update_transaction)
