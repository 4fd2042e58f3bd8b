"""Billing Meters: create, list, retrieve, update (display name), deactivate/reactivate."""

from __future__ import annotations

from typing import Any, cast

from stripe_emulator.aggregation import FORMULAS
from stripe_emulator.errors import invalid, missing_param, not_found
from stripe_emulator.forms import get_dict, get_str, req_str
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import new_id, public


def get_meter(req: Req, meter_id: str) -> dict[str, Any]:
    meter = req.emu.store.find("meters", meter_id)
    if meter is None:
        raise not_found("billing.meter", meter_id)
    return meter


def meter_for_event(req: Req, event_name: str) -> dict[str, Any] | None:
    for meter in req.emu.store.collection("meters").values():
        if meter["event_name"] == event_name:
            return cast(dict[str, Any], meter)
    return None


def create_meter(req: Req) -> Any:
    p = req.params
    display_name = req_str(p, "display_name")
    event_name = req_str(p, "event_name")
    formula = get_str(get_dict(p, "default_aggregation"), "formula")
    if formula is None:
        raise missing_param("default_aggregation[formula]")
    if formula not in FORMULAS:
        raise invalid(
            f"Invalid default_aggregation[formula]: must be one of {', '.join(FORMULAS)}",
            param="default_aggregation[formula]",
        )
    if meter_for_event(req, event_name) is not None:
        raise invalid(f"A meter with event_name '{event_name}' already exists.", param="event_name")
    mapping = get_dict(p, "customer_mapping")
    mapping_type = get_str(mapping, "type") or "by_id"
    if mapping_type != "by_id":
        raise invalid("customer_mapping[type] must be by_id", param="customer_mapping[type]")
    window = get_str(p, "event_time_window")
    if window not in (None, "day", "hour"):
        raise invalid("event_time_window must be one of day, hour", param="event_time_window")
    now = req.now
    meter = {
        "id": new_id("mtr"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": {
            "event_payload_key": get_str(mapping, "event_payload_key") or "stripe_customer_id",
            "type": mapping_type,
        },
        "default_aggregation": {"formula": formula},
        "display_name": display_name,
        "event_name": event_name,
        "event_time_window": window,
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {
            "event_payload_key": get_str(get_dict(p, "value_settings"), "event_payload_key")
            or "value"
        },
    }
    req.emu.store.put("meters", meter["id"], meter)
    return public(meter)


def list_meters(req: Req) -> Any:
    status = get_str(req.params, "status")
    items = [
        public(m)
        for m in reversed(list(req.emu.store.collection("meters").values()))
        if status is None or m["status"] == status
    ]
    return list_envelope(items, "/v1/billing/meters", req.params)


def retrieve_meter(req: Req) -> Any:
    return public(get_meter(req, req.path_params["id"]))


def update_meter(req: Req) -> Any:
    meter = get_meter(req, req.path_params["id"])
    for key in req.params:
        if key not in ("display_name", "expand"):
            raise invalid(f"Received unknown parameter: {key}", param=key)
    name = get_str(req.params, "display_name")
    if name is not None:
        meter["display_name"] = name
        meter["updated"] = req.now
    return public(meter)


def _set_status(req: Req, active: bool) -> Any:
    meter = get_meter(req, req.path_params["id"])
    wanted = "active" if active else "inactive"
    if meter["status"] == wanted:
        raise invalid(f"This meter is already {wanted}.")
    meter["status"] = wanted
    meter["status_transitions"]["deactivated_at"] = None if active else req.now
    meter["updated"] = req.now
    return public(meter)


def deactivate_meter(req: Req) -> Any:
    return _set_status(req, active=False)


def reactivate_meter(req: Req) -> Any:
    return _set_status(req, active=True)


def register(router: Router) -> None:
    router.add("POST", "/v1/billing/meters", create_meter)
    router.add("GET", "/v1/billing/meters", list_meters)
    router.add("GET", "/v1/billing/meters/{id}", retrieve_meter)
    router.add("POST", "/v1/billing/meters/{id}", update_meter)
    router.add("POST", "/v1/billing/meters/{id}/deactivate", deactivate_meter)
    router.add("POST", "/v1/billing/meters/{id}/reactivate", reactivate_meter)
