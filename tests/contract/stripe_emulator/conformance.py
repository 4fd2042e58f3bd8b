"""Validating a response body against Stripe's published object types.

The types come from `tests/fixtures/stripe_object_types.json` (see ADR 0101 and
`scripts/stripe_object_types.py`): per object, each field's alternatives and whether it is
required. A field that is required must be present; null is valid only where Stripe's spec
allows it; numbers, strings, booleans, arrays, lists and nested objects must have their
declared shape. Fields Stripe does not declare are not judged (other API versions).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "stripe_object_types.json"
TYPES: dict[str, dict[str, Any]] = json.loads(FIXTURE.read_text())["types"]

# The `object` value of a response → its type in the fixture.
OBJECT_TYPES = {
    "customer": "Customer",
    "product": "Product",
    "price": "Price",
    "subscription": "Subscription",
    "subscription_item": "SubscriptionItem",
    "invoice": "Invoice",
    "line_item": "InvoiceLineItem",
    "invoiceitem": "InvoiceItem",
    "webhook_endpoint": "WebhookEndpoint",
    "billing.meter": "Billing.Meter",
    "billing.meter_event": "Billing.MeterEvent",
    "billing.meter_event_adjustment": "Billing.MeterEventAdjustment",
    "billing.meter_event_summary": "Billing.MeterEventSummary",
    "v2.billing.meter_event": "V2.Billing.MeterEvent",
    "v2.billing.meter_event_adjustment": "V2.Billing.MeterEventAdjustment",
    "v2.billing.meter_event_session": "V2.Billing.MeterEventSession",
    "test_helpers.test_clock": "TestHelpers.TestClock",
    "billing.credit_grant": "Billing.CreditGrant",
    "billing.credit_balance_summary": "Billing.CreditBalanceSummary",
    "billing.credit_balance_transaction": "Billing.CreditBalanceTransaction",
    "billing.alert": "Billing.Alert",
    "billing.alert_triggered": "Billing.AlertTriggered",
    "credit_note": "CreditNote",
    "credit_note_line_item": "CreditNoteLineItem",
    "customer_balance_transaction": "CustomerBalanceTransaction",
    "v2.core.event_destination": "V2.Core.EventDestination",
    "v2.core.event": "V2.Core.EventBase",
}
DELETED_TYPES = {
    "customer": "DeletedCustomer",
    "invoice": "DeletedInvoice",
    "invoiceitem": "DeletedInvoiceItem",
    "product": "DeletedProduct",
    "webhook_endpoint": "DeletedWebhookEndpoint",
    "test_helpers.test_clock": "TestHelpers.DeletedTestClock",
    "subscription_item": "DeletedSubscriptionItem",
    "v2.core.event_destination": "V2.DeletedObject",
}


def _matches(value: Any, alt: Any, path: str) -> list[str] | None:
    """Problems if `value` is this alternative's kind (None if it is another kind)."""
    if alt == "any":
        return []
    if alt == "number":
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else None
    if alt == "string":
        return [] if isinstance(value, str) else None
    if alt == "boolean":
        return [] if isinstance(value, bool) else None
    if alt == "object":
        return [] if isinstance(value, dict) else None
    if "array" in alt:
        if not isinstance(value, list):
            return None
        return [p for i, v in enumerate(value) for p in _value(v, alt["array"], f"{path}[{i}]")]
    if "list" in alt:
        if not isinstance(value, dict) or value.get("object") != "list":
            return None
        data = value.get("data")
        if not isinstance(data, list) or not isinstance(value.get("has_more"), bool):
            return [f"{path}: a list without data/has_more"]
        return [p for i, v in enumerate(data) for p in _value(v, alt["list"], f"{path}.data[{i}]")]
    if not isinstance(value, dict):
        return None
    name = alt["ref"]
    return problems(value, name, path) if name in TYPES else []


def _value(value: Any, alternatives: list[Any], path: str) -> list[str]:
    if value is None:
        return [] if "null" in alternatives else [f"{path}: null, but not nullable"]
    for alt in alternatives:
        if alt == "null":
            continue
        found = _matches(value, alt, path)
        if found is not None:
            return found
    return [f"{path}: {type(value).__name__} {value!r:.40} is none of {alternatives}"]


def problems(body: dict[str, Any], type_name: str, path: str = "") -> list[str]:
    """Every way `body` departs from Stripe's type `type_name`."""
    found: list[str] = []
    for field, spec in TYPES[type_name].items():
        where = f"{path}.{field}" if path else field
        if field not in body:
            if not spec["optional"]:
                found.append(f"{where}: required, missing")
            continue
        found += _value(body[field], spec["type"], where)
    return found


def type_of(body: dict[str, Any]) -> str | None:
    """The Stripe type a top-level response object should conform to."""
    kind = body.get("object")
    if not isinstance(kind, str):
        return None
    if body.get("deleted") is True:
        return DELETED_TYPES.get(kind)
    return OBJECT_TYPES.get(kind)


def check_response(body: Any, path: str = "$") -> list[str]:
    """Validate a response: an object, a list or search result of objects, or an event."""
    if not isinstance(body, dict):
        return [f"{path}: not a JSON object"]
    if "object" not in body and "next_page_url" in body:  # a v2 list: data and page urls
        body = {**body, "object": "list", "has_more": body["next_page_url"] is not None}
    if body.get("object") in ("list", "search_result"):
        data = body.get("data")
        if not isinstance(data, list) or not isinstance(body.get("has_more"), bool):
            return [f"{path}: a list without data/has_more"]
        return [p for i, item in enumerate(data) for p in check_response(item, f"{path}[{i}]")]
    if body.get("object") == "event":
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
            return [f"{path}: an event without data.object"]
        return check_response(data["object"], f"{path}.data.object")
    name = type_of(body)
    if name is None:
        return [f"{path}: object {body.get('object')!r} has no Stripe type to check against"]
    return problems(body, name, path)
