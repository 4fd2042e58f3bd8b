"""Billing alerts (`/v1/billing/alerts`, `usage_threshold` with `one_time` recurrence) and
the `billing.alert.triggered` event.

An active alert is checked after each accepted meter event for its meter: once a
customer's cumulative usage on the meter (the meter's formula over every live event)
reaches `gte`, the alert triggers for that customer, once. Stripe evaluates alerts a few
minutes later; the emulator does it at once, so tests need not wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.aggregation import aggregate
from stripe_emulator.errors import invalid, not_found
from stripe_emulator.forms import get_int, get_str
from stripe_emulator.meter_events import usage_events
from stripe_emulator.routing import Req, Router, list_envelope
from stripe_emulator.store import new_id, public
from stripe_emulator.test_clocks import customer_now
from stripe_emulator.webhooks import emit

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

MAX_TITLE = 256


def _view(alert: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(alert)
    return view


def _filters(req: Req, raw: Any) -> list[dict[str, Any]] | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, list) or len(raw) != 1:
        raise invalid(
            "usage_threshold[filters] takes exactly one customer filter.",
            param="usage_threshold[filters]",
        )
    entry = raw[0] if isinstance(raw[0], dict) else {}
    if get_str(entry, "type") != "customer":
        raise invalid(
            "usage_threshold[filters][0][type] must be customer.",
            param="usage_threshold[filters][0][type]",
        )
    customer = str(get_str(entry, "customer", required=True))
    if req.emu.store.get("customers", customer) is None:
        raise not_found("customer", str(customer), param="usage_threshold[filters][0][customer]")
    return [{"customer": customer, "type": "customer"}]


def create_alert(req: Req) -> Any:
    p = req.params
    if get_str(p, "alert_type", required=True) != "usage_threshold":
        raise invalid("alert_type must be usage_threshold.", param="alert_type")
    title = get_str(p, "title", required=True) or ""
    if len(title) > MAX_TITLE:
        raise invalid(f"title must be at most {MAX_TITLE} characters.", param="title")
    raw = p.get("usage_threshold")
    if not isinstance(raw, dict):
        raise invalid(
            "Missing required param: usage_threshold.",
            param="usage_threshold",
            code="parameter_missing",
        )
    meter_id = str(get_str(raw, "meter", required=True))
    if req.emu.store.get("meters", meter_id) is None:
        raise not_found("billing.meter", str(meter_id), param="usage_threshold[meter]")
    gte = get_int(raw, "gte", required=True)
    if gte is None or gte < 1:
        raise invalid(
            "usage_threshold[gte] must be a positive integer.", param="usage_threshold[gte]"
        )
    if get_str(raw, "recurrence", required=True) != "one_time":
        raise invalid(
            "usage_threshold[recurrence] must be one_time.", param="usage_threshold[recurrence]"
        )
    alert: dict[str, Any] = {
        "id": new_id("alrt"),
        "object": "billing.alert",
        "alert_type": "usage_threshold",
        "livemode": False,
        "status": "active",
        "title": title,
        "usage_threshold": {
            "filters": _filters(req, raw.get("filters")),
            "gte": gte,
            "meter": meter_id,
            "recurrence": "one_time",
        },
        "_triggered_for": [],
    }
    req.emu.store.put("billing_alerts", alert["id"], alert)
    return _view(alert)


def _get(req: Req) -> dict[str, Any]:
    alert: dict[str, Any] | None = req.emu.store.get("billing_alerts", req.path_params["id"])
    if alert is None:
        raise not_found("billing.alert", req.path_params["id"])
    return alert


def retrieve_alert(req: Req) -> Any:
    return _view(_get(req))


def list_alerts(req: Req) -> Any:
    meter = get_str(req.params, "meter")
    alerts = [
        _view(a)
        for a in reversed(list(req.emu.store.collection("billing_alerts").values()))
        if meter in (None, a["usage_threshold"]["meter"])
    ]
    return list_envelope(alerts, "/v1/billing/alerts", req.params)


def _status(req: Req, wanted: str) -> Any:
    alert = _get(req)
    if alert["status"] == "archived":
        raise invalid("An archived alert cannot change status.")
    alert["status"] = wanted
    return _view(alert)


def activate(req: Req) -> Any:
    return _status(req, "active")


def deactivate(req: Req) -> Any:
    return _status(req, "inactive")


def archive(req: Req) -> Any:
    return _status(req, "archived")


def check_alerts(emu: Emulator, meter: dict[str, Any], customer: str) -> None:
    """After an accepted meter event: trigger every active alert the usage now reaches."""
    usage = None
    for alert in emu.store.collection("billing_alerts").values():
        threshold = alert["usage_threshold"]
        filters = threshold["filters"] or []
        if (
            alert["status"] != "active"
            or threshold["meter"] != meter["id"]
            or customer in alert["_triggered_for"]
            or (filters and filters[0]["customer"] != customer)
        ):
            continue
        if usage is None:
            usage = aggregate(
                meter["default_aggregation"]["formula"],
                usage_events(emu.store, meter["id"], customer),
            )
        if usage >= threshold["gte"]:
            alert["_triggered_for"].append(customer)
            emit(
                emu,
                "billing.alert.triggered",
                {
                    "object": "billing.alert_triggered",
                    "alert": _view(alert),
                    "created": customer_now(emu, customer),
                    "customer": customer,
                    "livemode": False,
                    "value": int(usage),
                },
            )


def register(router: Router) -> None:
    router.add("POST", "/v1/billing/alerts", create_alert)
    router.add("GET", "/v1/billing/alerts", list_alerts)
    router.add("GET", "/v1/billing/alerts/{id}", retrieve_alert)
    router.add("POST", "/v1/billing/alerts/{id}/activate", activate)
    router.add("POST", "/v1/billing/alerts/{id}/deactivate", deactivate)
    router.add("POST", "/v1/billing/alerts/{id}/archive", archive)
