"""Meter events, cancellations and event summaries (v1), plus the ingest rules shared
with the v2 endpoints: identifier dedupe over 24 h, the 35-day / 5-minute timestamp
window, required payload keys, inactive meters."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from stripe_emulator.aggregation import (
    UsageEvent,
    check_range,
    summarize,
    summary_id,
)
from stripe_emulator.errors import StripeError, invalid, missing_param
from stripe_emulator.forms import decimal_json, get_dict, get_int, get_str
from stripe_emulator.meters import get_meter, meter_for_event
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import StateStore, new_id, public
from stripe_emulator.test_clocks import customer_now

DEDUPE_WINDOW = 86400
PAST_LIMIT = 35 * 86400
FUTURE_LIMIT = 300
_seq = itertools.count(1)


def _identifier_index(store: StateStore) -> dict[str, str]:
    index: dict[str, str] = store.extra.setdefault("identifier_index", {})
    return index


def _index_key(meter_id: str, identifier: str) -> str:
    """Identifiers are unique per meter (two meters may each have an event `abc`)."""
    return f"{meter_id}|{identifier}"


def find_by_identifier(
    store: StateStore, identifier: str, meter_id: str | None = None
) -> dict[str, Any] | None:
    """The newest event with `identifier` on `meter_id` (on any meter when None)."""
    if meter_id is not None:
        event_id = _identifier_index(store).get(_index_key(meter_id, identifier))
        return None if event_id is None else store.get("meter_events", event_id)
    found = [e for e in store.collection("meter_events").values() if e["identifier"] == identifier]
    return found[-1] if found else None


def concurrency_key(req: Req) -> tuple[str, str] | None:
    """(customer, meter) that a single meter-event request touches, for the lock rule."""
    name = req.params.get("event_name")
    payload = req.params.get("payload")
    if not isinstance(name, str) or not isinstance(payload, dict):
        return None
    meter = meter_for_event(req, name)
    if meter is None:
        return None
    customer = payload.get(meter["customer_mapping"]["event_payload_key"])
    return None if customer is None else (str(customer), meter["id"])


def ingest(
    req: Req,
    event_name: str | None,
    payload: dict[str, Any],
    identifier: str | None,
    timestamp: int | None,
    source: str,
) -> dict[str, Any]:
    """Validate and store one meter event; raises StripeError with Stripe's messages."""
    emu, now = req.emu, req.now
    if not event_name:
        raise missing_param("event_name")
    if not payload:
        raise missing_param("payload")
    meter = meter_for_event(req, event_name)
    if req.reported is not None:  # an injected `report` fault (faults.py)
        return _deferred(req, meter, *req.reported, event_name, payload, identifier, timestamp)
    if meter is None and emu.config.async_meter_errors:
        return _deferred(
            req,
            None,
            "no_meter",
            f"No active meter was found for event_name '{event_name}'.",
            event_name,
            payload,
            identifier,
            timestamp,
        )
    if meter is None:
        raise invalid(
            f"No active meter was found for event_name '{event_name}'.",
            param="event_name",
            code="no_meter",
        )
    if meter["status"] != "active":
        raise invalid(
            f"The meter for event_name '{event_name}' is inactive (deactivated).",
            param="event_name",
            code="archived_meter",
        )
    customer_key = meter["customer_mapping"]["event_payload_key"]
    value_key = meter["value_settings"]["event_payload_key"]
    customer = payload.get(customer_key)
    if customer in (None, ""):
        raise invalid(
            f"Missing required field '{customer_key}' in payload.",
            param=f"payload[{customer_key}]",
            code="meter_event_no_customer_defined",
        )
    customer = str(customer)
    if emu.config.async_meter_errors and emu.store.get("customers", customer) is None:
        return _deferred(
            req,
            meter,
            "meter_event_customer_not_found",
            f"No such customer: '{customer}'",
            event_name,
            payload,
            identifier,
            timestamp,
        )
    if emu.config.require_known_customers and emu.store.get("customers", customer) is None:
        raise invalid(
            f"No such customer: '{customer}'",
            param=f"payload[{customer_key}]",
            code="meter_event_customer_not_found",
        )
    raw_value = payload.get(value_key)
    if raw_value in (None, ""):
        if meter["default_aggregation"]["formula"] != "count":
            raise invalid(
                f"Missing required field '{value_key}' in payload.",
                param=f"payload[{value_key}]",
                code="meter_event_value_not_found",
            )
        raw_value = "1"
    try:
        value = Decimal(str(raw_value))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise invalid(
            f"Invalid value '{raw_value}' for '{value_key}': must be a number.",
            param=f"payload[{value_key}]",
            code="meter_event_invalid_value",
        )
    clock_now = customer_now(emu, customer)  # a test clock's customer lives on its time
    ts = clock_now if timestamp is None else timestamp
    if ts < clock_now - PAST_LIMIT:
        raise invalid(
            "The event timestamp cannot be more than 35 days in past. Expected a "
            f"timestamp greater than or equal to {clock_now - PAST_LIMIT}.",
            param="timestamp",
            code="timestamp_too_far_in_past",
        )
    if ts > clock_now + FUTURE_LIMIT:
        raise invalid(
            "The event timestamp cannot be more than 5 minutes in the future. "
            f"Expected a timestamp less than or equal to {clock_now + FUTURE_LIMIT}.",
            param="timestamp",
            code="timestamp_in_future",
        )
    ident = identifier or str(uuid.uuid4())
    previous = find_by_identifier(emu.store, ident, meter["id"])
    if previous is not None and previous["created"] + DEDUPE_WINDOW > now:
        raise StripeError(
            400,
            f"An event already exists with identifier {ident}.",
            param="identifier",
            code="duplicate_meter_event",
            headers={"Stripe-Should-Retry": "false"},
        )
    event = {
        "object": "billing.meter_event",
        "created": now,
        "event_name": event_name,
        "identifier": ident,
        "livemode": False,
        "payload": {str(k): str(v) for k, v in payload.items()},
        "timestamp": ts,
        "_id": new_id("mev"),
        "_meter": meter["id"],
        "_customer": customer,
        "_value": str(value),
        "_cancelled_at": None,
        "_seq": next(_seq),
        "_source": source,
    }
    emu.store.put("meter_events", event["_id"], event)
    _identifier_index(emu.store)[_index_key(meter["id"], ident)] = event["_id"]
    from stripe_emulator.alerts import check_alerts

    check_alerts(emu, meter, customer)  # billing alerts (alerts.py)
    return event


def _deferred(
    req: Req,
    meter: dict[str, Any] | None,
    code: str,
    message: str,
    event_name: str,
    payload: dict[str, Any],
    identifier: str | None,
    timestamp: int | None,
) -> dict[str, Any]:
    """Accept (not store) an event Stripe would refuse later, and queue the error report."""
    from stripe_emulator.event_destinations import report_meter_error

    ident = identifier or str(uuid.uuid4())
    report_meter_error(req.emu, meter, code, message, ident)
    return {
        "object": "billing.meter_event",
        "created": req.now,
        "event_name": event_name,
        "identifier": ident,
        "livemode": False,
        "payload": {str(k): str(v) for k, v in payload.items()},
        "timestamp": req.now if timestamp is None else timestamp,
    }


def cancel(req: Req, event_name: str | None, identifier: str | None, source: str) -> dict[str, Any]:
    """Cancel an event by identifier, allowed only within 24 h of its receipt."""
    if not event_name:
        raise missing_param("event_name")
    if not identifier:
        raise missing_param("cancel[identifier]")
    meter = meter_for_event(req, event_name)
    event = None if meter is None else find_by_identifier(req.emu.store, identifier, meter["id"])
    if event is None:
        raise invalid(
            f"No meter event found with identifier '{identifier}' for event_name '{event_name}'.",
            param="cancel[identifier]",
            code="resource_missing",
        )
    if event["created"] + DEDUPE_WINDOW <= req.now:
        raise invalid(
            f"The meter event with identifier '{identifier}' cannot be cancelled: "
            "events can only be cancelled within 24 hours of being received.",
            param="cancel[identifier]",
            code="meter_event_adjustment_too_late",
        )
    if event["_cancelled_at"] is not None:
        raise invalid(
            f"The meter event with identifier '{identifier}' is already cancelled.",
            param="cancel[identifier]",
            code="meter_event_already_cancelled",
        )
    event["_cancelled_at"] = req.now
    record = {
        "id": new_id("mtradj"),
        "event_name": event_name,
        "identifier": identifier,
        "created": req.now,
        "source": source,
    }
    req.emu.store.put("meter_event_adjustments", record["id"], record)
    return record


def create_event(req: Req) -> Any:
    p = req.params
    event = ingest(
        req,
        get_str(p, "event_name"),
        get_dict(p, "payload"),
        get_str(p, "identifier"),
        get_int(p, "timestamp"),
        "v1",
    )
    return public(event)


def create_adjustment(req: Req) -> Any:
    p = req.params
    kind = get_str(p, "type") or "cancel"
    if kind != "cancel":
        raise invalid("type must be cancel", param="type")
    ident = get_str(get_dict(p, "cancel"), "identifier")
    record = cancel(req, get_str(p, "event_name"), ident, "v1")
    return {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": record["identifier"]},
        "event_name": record["event_name"],
        "livemode": False,
        "status": "complete",
        "type": "cancel",
    }


def usage_events(store: StateStore, meter_id: str, customer: str) -> list[UsageEvent]:
    return [
        UsageEvent(e["timestamp"], Decimal(e["_value"]), e["_seq"])
        for e in store.collection("meter_events").values()
        if e["_meter"] == meter_id and e["_customer"] == customer and e["_cancelled_at"] is None
    ]


def event_summaries(req: Req) -> Any:
    meter = get_meter(req, req.path_params["id"])
    p = req.params
    customer = get_str(p, "customer", required=True)
    start = get_int(p, "start_time", required=True)
    end = get_int(p, "end_time", required=True)
    assert customer is not None and start is not None and end is not None
    window = get_str(p, "value_grouping_window")
    check_range(start, end, window)
    buckets = summarize(
        meter["default_aggregation"]["formula"],
        usage_events(req.emu.store, meter["id"], customer),
        start,
        end,
        window,
    )
    items = [
        {
            "id": summary_id(meter["id"], customer, b.start, b.end),
            "object": "billing.meter_event_summary",
            "aggregated_value": decimal_json(b.value),
            "end_time": b.end,
            "livemode": False,
            "meter": meter["id"],
            "start_time": b.start,
        }
        for b in buckets
    ]
    return list_envelope(items, f"/v1/billing/meters/{meter['id']}/event_summaries", p)


def register(router: Router) -> None:
    router.add("POST", "/v1/billing/meter_events", create_event)
    router.add("POST", "/v1/billing/meter_event_adjustments", create_adjustment)
    router.add("GET", "/v1/billing/meters/{id}/event_summaries", event_summaries)
