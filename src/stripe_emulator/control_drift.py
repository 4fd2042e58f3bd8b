"""Control routes that change Stripe-side state behind the client's back, so
reconciliation tests can inject drift: edit or remove a draft's invoice item, add or
cancel meter events. Nothing here sends a webhook or touches idempotency records."""

from __future__ import annotations

from typing import Any

from stripe_emulator.errors import invalid, not_found
from stripe_emulator.invoice_items import amend
from stripe_emulator.invoices import detach_item
from stripe_emulator.meter_events import find_by_identifier, ingest
from stripe_emulator.routing import Reply, Req, Router
from stripe_emulator.store import public

P = "/_emulator"
_ITEM_FIELDS = ("quantity", "quantity_decimal", "unit_amount_decimal", "amount")
_EVENT_FIELDS = ("event_name", "payload", "identifier", "timestamp")


def _only(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in params:
        if key not in allowed:
            raise invalid(f"Unknown field {key}; allowed: {', '.join(allowed)}", param=key)


def _item(req: Req) -> dict[str, Any]:
    item = req.emu.store.get("invoice_items", req.path_params["id"])
    if item is None:
        raise not_found("invoiceitem", req.path_params["id"])
    found: dict[str, Any] = item
    return found


def edit_invoice_item(req: Req) -> Any:
    """`{"quantity"?, "quantity_decimal"?, "unit_amount_decimal"?, "amount"?}`."""
    _only(req.params, _ITEM_FIELDS)
    if not req.params:
        raise invalid(f"Give at least one of {', '.join(_ITEM_FIELDS)}")
    return amend(req.emu, _item(req), req.params)


def remove_invoice_item(req: Req) -> Any:
    item = _item(req)
    invoice = None if item["invoice"] is None else req.emu.store.get("invoices", item["invoice"])
    if invoice is not None:
        if invoice["status"] != "draft":
            raise invalid(
                f"Invoice {invoice['id']} is {invoice['status']}; only items on "
                "draft invoices (or pending items) can be removed."
            )
        detach_item(invoice, item)
    del req.emu.store.collection("invoice_items")[item["id"]]
    return {"id": item["id"], "deleted": True}


def add_meter_event(req: Req) -> Any:
    """Ingest an event with Stripe's rules (meter, payload keys, 35-day / 5-minute window,
    24 h identifier dedupe), without auth, rate limits, locks or idempotency."""
    _only(req.params, _EVENT_FIELDS)
    p = req.params
    payload = p.get("payload")
    if not isinstance(payload, dict):
        raise invalid("payload must be an object", param="payload")
    ts = p.get("timestamp")
    if ts is not None and not isinstance(ts, int):
        raise invalid("timestamp must be an integer", param="timestamp")
    event = ingest(req, p.get("event_name"), payload, p.get("identifier"), ts, "control")
    return Reply(public(event), status=200)


def cancel_meter_event(req: Req) -> Any:
    """Cancel an event by identifier at any age (Stripe's API allows 24 h; drift may be
    older). Cancelling twice is an error."""
    event = find_by_identifier(req.emu.store, req.path_params["identifier"])
    if event is None:
        raise not_found("meter event with identifier", req.path_params["identifier"])
    if event["_cancelled_at"] is not None:
        raise invalid(
            f"The meter event {event['identifier']} is already cancelled.",
            code="meter_event_already_cancelled",
        )
    event["_cancelled_at"] = req.now
    record = {
        "id": f"ctladj_{event['_id'][4:]}",
        "event_name": event["event_name"],
        "identifier": event["identifier"],
        "created": req.now,
        "source": "control",
    }
    req.emu.store.put("meter_event_adjustments", record["id"], record)
    return {"identifier": event["identifier"], "cancelled_at": req.now}


def register(router: Router) -> None:
    router.add("POST", f"{P}/invoice_items/{{id}}", edit_invoice_item)
    router.add("DELETE", f"{P}/invoice_items/{{id}}", remove_invoice_item)
    router.add("POST", f"{P}/meter_events", add_meter_event)
    router.add("POST", f"{P}/meter_events/{{identifier}}/cancel", cancel_meter_event)
