"""Billing credits: credit grants (`/v1/billing/credit_grants`), the ledger of credit
balance transactions, the balance summary, and their application when an invoice is
finalized.

Credits apply only to lines of metered prices that have a meter (Stripe's rule), grant by
grant in Stripe's order: priority (lower first), then the soonest expiry, then promotional
before paid, then the oldest. Each application is a `debit` transaction and a
`pretax_credit_amounts` entry on the line; the invoice total drops by the same amount.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_dict, get_int, get_str, metadata
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.test_clocks import customer_clock, customer_now
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

DEFAULT_PRIORITY = 50
MAX_VALUE = 10**11


def _money(currency: str, value: int) -> dict[str, Any]:
    return {"monetary": {"currency": currency, "value": value}, "type": "monetary"}


def _transaction(
    emu: Emulator,
    grant: dict[str, Any],
    kind: str,
    reason: str,
    value: int,
    at: int,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    money = _money(grant["amount"]["monetary"]["currency"], value)
    txn: dict[str, Any] = {
        "id": new_id("cbtxn"),
        "object": "billing.credit_balance_transaction",
        "created": at,
        "credit": None,
        "credit_grant": grant["id"],
        "debit": None,
        "effective_at": at,
        "livemode": False,
        "test_clock": grant["test_clock"],
        "type": kind,
        "_customer": grant["customer"],
    }
    if kind == "credit":
        txn["credit"] = {
            "amount": money,
            "type": reason,
            "credits_application_invoice_voided": detail,
        }
    else:
        txn["debit"] = {"amount": money, "type": reason, "credits_applied": detail}
    emu.store.put("credit_balance_transactions", txn["id"], txn)
    return txn


def remaining(emu: Emulator, grant_id: str) -> int:
    """What is left of a grant: its credits minus its debits."""
    left = 0
    for txn in emu.store.collection("credit_balance_transactions").values():
        if txn["credit_grant"] == grant_id:
            side = txn["credit"] or txn["debit"]
            sign = 1 if txn["type"] == "credit" else -1
            left += sign * side["amount"]["monetary"]["value"]
    return left


def _usable(grant: dict[str, Any], at: int) -> bool:
    return (
        grant["voided_at"] is None
        and (grant["effective_at"] or 0) <= at
        and (grant["expires_at"] is None or at < grant["expires_at"])
    )


def _applies_to(grant: dict[str, Any], price: dict[str, Any]) -> bool:
    recurring = price.get("recurring") or {}
    if recurring.get("usage_type") != "metered" or not recurring.get("meter"):
        return False
    scope = grant["applicability_config"]["scope"]
    if scope.get("prices"):
        return price["id"] in {p["id"] for p in scope["prices"]}
    return bool(scope.get("price_type") == "metered")


def _order(grant: dict[str, Any]) -> tuple[int, int, int, int]:
    expiry = grant["expires_at"] if grant["expires_at"] is not None else 2**62
    return (
        grant["priority"] if grant["priority"] is not None else DEFAULT_PRIORITY,
        expiry,
        0 if grant["category"] == "promotional" else 1,
        grant["created"],
    )


def apply_credits(emu: Emulator, invoice: dict[str, Any], at: int) -> None:
    """Consume the customer's usable grants against the invoice's metered lines."""
    grants = sorted(
        (
            g
            for g in emu.store.collection("credit_grants").values()
            if g["customer"] == invoice["customer"]
            and _usable(g, at)
            and g["amount"]["monetary"]["currency"] == invoice["currency"]
        ),
        key=_order,
    )
    applied_total = 0
    for line in invoice["_lines"]:
        price_id = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
        price = emu.store.get("prices", price_id) if price_id else None
        owed = line["amount"]
        for grant in grants:
            if price is None or owed <= 0 or not _applies_to(grant, price):
                continue
            use = min(owed, remaining(emu, grant["id"]))
            if use <= 0:
                continue
            txn = _transaction(
                emu,
                grant,
                "debit",
                "credits_applied",
                use,
                at,
                {"invoice": invoice["id"], "invoice_line_item": line["id"]},
            )
            line["pretax_credit_amounts"].append(
                {
                    "amount": use,
                    "credit_balance_transaction": txn["id"],
                    "discount": None,
                    "margin": None,
                    "type": "credit_balance_transaction",
                }
            )
            owed -= use
            applied_total += use
    if applied_total:
        invoice["total_pretax_credit_amounts"] = [
            entry for line in invoice["_lines"] for entry in line["pretax_credit_amounts"]
        ]
        for key in ("total", "total_excluding_tax", "amount_due", "amount_remaining"):
            invoice[key] -= applied_total


def restore_credits(emu: Emulator, invoice: dict[str, Any], at: int) -> None:
    """A voided invoice gives back the credits it consumed (Stripe's
    `credits_application_invoice_voided`)."""
    for entry in invoice.get("total_pretax_credit_amounts") or []:
        debit = emu.store.get("credit_balance_transactions", entry["credit_balance_transaction"])
        grant = emu.store.get("credit_grants", debit["credit_grant"]) if debit else None
        if grant is not None:
            _transaction(
                emu,
                grant,
                "credit",
                "credits_application_invoice_voided",
                entry["amount"],
                at,
                debit["debit"]["credits_applied"],
            )


# -- routes -------------------------------------------------------------------------------
def _view(grant: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(grant)
    return view


def _get(req: Req) -> dict[str, Any]:
    grant: dict[str, Any] | None = req.emu.store.get("credit_grants", req.path_params["id"])
    if grant is None:
        raise not_found("billing.credit_grant", req.path_params["id"])
    return grant


def _scope(p: dict[str, Any]) -> dict[str, Any]:
    scope = get_dict(get_dict(p, "applicability_config"), "scope")
    prices = scope.get("prices")
    price_type = get_str(scope, "price_type")
    if prices and price_type:
        raise invalid(
            "Specify only one of price_type and prices.", param="applicability_config[scope]"
        )
    if prices:
        if not isinstance(prices, list):
            raise invalid("Invalid array", param="applicability_config[scope][prices]")
        if not all(isinstance(p_, dict) for p_ in prices):
            raise invalid("Invalid object", param="applicability_config[scope][prices]")
        return {"prices": [{"id": get_str(p_, "id", required=True)} for p_ in prices]}
    if price_type != "metered":
        raise invalid(
            "applicability_config[scope][price_type] must be metered.",
            param="applicability_config[scope][price_type]",
            code="parameter_missing" if price_type is None else None,
        )
    return {"price_type": "metered"}  # Stripe omits the alternative it was not given


def create_grant(req: Req) -> Any:
    p, emu = req.params, req.emu
    customer = get_str(p, "customer", required=True)
    assert customer is not None
    if emu.store.get("customers", customer) is None:
        raise not_found("customer", customer, param="customer")
    monetary = get_dict(get_dict(p, "amount"), "monetary")
    currency = (get_str(monetary, "currency", required=True) or "").lower()
    value = get_int(monetary, "value", required=True)
    assert value is not None
    if not 0 < value <= MAX_VALUE:
        raise invalid(
            "amount[monetary][value] must be a positive integer.", param="amount[monetary][value]"
        )
    category = get_str(p, "category") or "paid"
    if category not in ("paid", "promotional"):
        raise invalid("category must be paid or promotional.", param="category")
    now = customer_now(emu, customer)
    priority = get_int(p, "priority")
    if priority is not None and not 0 <= priority <= 100:
        raise invalid("priority must be between 0 and 100.", param="priority")
    grant: dict[str, Any] = {
        "id": new_id("credgr"),
        "object": "billing.credit_grant",
        "amount": _money(currency, value),
        "applicability_config": {"scope": _scope(p)},
        "category": category,
        "created": now,
        "customer": customer,
        "customer_account": None,
        "effective_at": get_int(p, "effective_at") or now,
        "expires_at": get_int(p, "expires_at"),
        "livemode": False,
        "metadata": metadata(p),
        "name": get_str(p, "name"),
        "priority": priority if priority is not None else DEFAULT_PRIORITY,
        "test_clock": customer_clock(emu, customer),
        "updated": now,
        "voided_at": None,
    }
    emu.store.put("credit_grants", grant["id"], grant)
    _transaction(emu, grant, "credit", "credits_granted", value, grant["effective_at"])
    emit(emu, "billing.credit_grant.created", _view(grant))
    return _view(grant)


def retrieve_grant(req: Req) -> Any:
    return _view(_get(req))


def list_grants(req: Req) -> Any:
    customer = get_str(req.params, "customer")
    grants = [
        _view(g)
        for g in reversed(list(req.emu.store.collection("credit_grants").values()))
        if customer in (None, g["customer"])
    ]
    return list_envelope(grants, "/v1/billing/credit_grants", req.params)


def update_grant(req: Req) -> Any:
    grant = _get(req)
    p = req.params
    if "expires_at" in p:
        grant["expires_at"] = get_int(p, "expires_at")
    for key, value in metadata(p).items():
        if value == "":
            grant["metadata"].pop(key, None)
        else:
            grant["metadata"][key] = value
    grant["updated"] = customer_now(req.emu, grant["customer"])
    emit(req.emu, "billing.credit_grant.updated", _view(grant))
    return _view(grant)


def _close(req: Req, reason: str) -> dict[str, Any]:
    grant = _get(req)
    now = customer_now(req.emu, grant["customer"])
    if grant["voided_at"] is not None or (
        grant["expires_at"] is not None and grant["expires_at"] <= now
    ):
        raise invalid("This credit grant is already voided or expired.")
    left = remaining(req.emu, grant["id"])
    if left > 0:
        _transaction(req.emu, grant, "debit", reason, left, now)
    if reason == "credits_voided":
        grant["voided_at"] = now
    else:
        grant["expires_at"] = now
    grant["updated"] = now
    emit(req.emu, "billing.credit_grant.updated", _view(grant))
    return _view(grant)


def expire_grant(req: Req) -> Any:
    return _close(req, "credits_expired")


def void_grant(req: Req) -> Any:
    return _close(req, "credits_voided")


def balance_summary(req: Req) -> Any:
    p, emu = req.params, req.emu
    customer = get_str(p, "customer", required=True)
    assert customer is not None
    if emu.store.get("customers", customer) is None:
        raise not_found("customer", customer, param="customer")
    flt = get_dict(p, "filter")
    kind = get_str(flt, "type", required=True)
    now = customer_now(emu, customer)
    grants = [
        g
        for g in emu.store.collection("credit_grants").values()
        if g["customer"] == customer and _usable(g, now)
    ]
    if kind == "credit_grant":
        grants = [g for g in grants if g["id"] == get_str(flt, "credit_grant")]
    elif kind != "applicability_scope":
        raise invalid(
            "filter[type] must be applicability_scope or credit_grant.", param="filter[type]"
        )
    totals: dict[str, int] = {}
    for grant in grants:
        currency = grant["amount"]["monetary"]["currency"]
        totals[currency] = totals.get(currency, 0) + remaining(emu, grant["id"])
    return {
        "object": "billing.credit_balance_summary",
        "customer": customer,
        "customer_account": None,
        "livemode": False,
        "balances": [
            {"available_balance": _money(c, v), "ledger_balance": _money(c, v)}
            for c, v in sorted(totals.items())
        ],
    }


def list_transactions(req: Req) -> Any:
    p = req.params
    grant, customer = get_str(p, "credit_grant"), get_str(p, "customer")
    if grant is None and customer is None:
        raise invalid(
            "Specify customer or credit_grant.", param="customer", code="parameter_missing"
        )
    txns = [
        public(t)
        for t in reversed(list(req.emu.store.collection("credit_balance_transactions").values()))
        if grant in (None, t["credit_grant"]) and customer in (None, t["_customer"])
    ]
    return list_envelope(txns, "/v1/billing/credit_balance_transactions", p)


def retrieve_transaction(req: Req) -> Any:
    txn = req.emu.store.get("credit_balance_transactions", req.path_params["id"])
    if txn is None:
        raise not_found("billing.credit_balance_transaction", req.path_params["id"])
    return public(txn)


def register(router: Router) -> None:
    router.add("POST", "/v1/billing/credit_grants", create_grant)
    router.add("GET", "/v1/billing/credit_grants", list_grants)
    router.add("GET", "/v1/billing/credit_grants/{id}", retrieve_grant)
    router.add("POST", "/v1/billing/credit_grants/{id}", update_grant)
    router.add("POST", "/v1/billing/credit_grants/{id}/expire", expire_grant)
    router.add("POST", "/v1/billing/credit_grants/{id}/void", void_grant)
    router.add("GET", "/v1/billing/credit_balance_summary", balance_summary)
    router.add("GET", "/v1/billing/credit_balance_transactions", list_transactions)
    router.add("GET", "/v1/billing/credit_balance_transactions/{id}", retrieve_transaction)
