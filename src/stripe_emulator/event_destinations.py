"""Asynchronous meter error reports and the minimal v2 event surface that carries them:
`v2/core/event_destinations` (webhook type, thin payloads) and `v2/core/events`.

With `async_meter_errors` on, a meter event for an unknown meter or customer is answered
200 as Stripe does, and the failure arrives later as a thin v2 event —
`v1.billing.meter.no_meter_found` or `v1.billing.meter.error_report_triggered` — delivered
to the event destinations that enabled it; its details are read with
`GET /v2/core/events/{id}`. Stripe batches errors over a window; the emulator reports each
failed event at once (one error per report).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stripe_emulator.errors import StripeError, invalid, missing_param
from stripe_emulator.forms import get_int, get_str, metadata
from stripe_emulator.routing import Reply, Req, Router
from stripe_emulator.store import new_id, public
from stripe_emulator.v2 import iso, parse_ts
from stripe_emulator.webhooks import LOOPBACK_HOSTS

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator

MAX_LIST = 100


def _not_found(kind: str, ident: str) -> StripeError:
    return StripeError(404, f"No such {kind}: '{ident}'", code="not_found")


def report_meter_error(
    emu: Emulator, meter: dict[str, Any] | None, code: str, message: str, identifier: str
) -> dict[str, Any]:
    """Record the asynchronous error report of one refused meter event."""
    now = emu.clock.now()
    kind = (
        "v1.billing.meter.no_meter_found"
        if meter is None
        else "v1.billing.meter.error_report_triggered"
    )
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "v2.core.event",
        "type": kind,
        "created": iso(now),
        "livemode": False,  # `context` and `reason`: absent, as Stripe omits them here
        "related_object": None
        if meter is None
        else {
            "id": meter["id"],
            "type": "billing.meter",
            "url": f"/v1/billing/meters/{meter['id']}",
        },
        "data": {
            "developer_message_summary": message,
            "reason": {
                "error_count": 1,
                "error_types": [
                    {
                        "code": code,
                        "error_count": 1,
                        "sample_errors": [
                            {"error_message": message, "request": {"identifier": identifier}}
                        ],
                    }
                ],
            },
            "validation_end": iso(now),
            "validation_start": iso(now),
        },
    }
    emu.store.put("v2_events", event["id"], event)
    for dest in emu.store.collection("event_destinations").values():
        if dest["status"] == "enabled" and kind in dest["enabled_events"]:
            delivery = {
                "id": new_id("whdel"),
                "event": event["id"],
                "endpoint": dest["id"],
                "status": "pending",
                "attempts": [],
                "next_attempt_at": now,
            }
            emu.store.put("deliveries", delivery["id"], delivery)
    return event


def thin(event: dict[str, Any]) -> dict[str, Any]:
    """What a destination receives: the event without its data (a thin event)."""
    return {k: v for k, v in event.items() if k != "data"}


def delivery_target(emu: Emulator, dest_id: str) -> dict[str, Any] | None:
    """The URL and signing secret of an event destination, for the webhook deliverer."""
    dest = emu.store.get("event_destinations", dest_id)
    if dest is None:
        return None
    return {"url": dest["webhook_endpoint"]["url"], "secret": dest["_secret"]}


def _view(dest: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = public(dest)
    view["webhook_endpoint"] = {**dest["webhook_endpoint"], "signing_secret": dest["_secret"]}
    return view


def create_destination(req: Req) -> Any:
    p = req.params
    if get_str(p, "type") != "webhook_endpoint":
        raise invalid(
            "The emulator models only event destinations of type webhook_endpoint.",
            param="type",
            code="emulator_unsupported",
        )
    url = (
        get_str(p.get("webhook_endpoint") or {}, "url")
        if isinstance(p.get("webhook_endpoint"), dict)
        else None
    )
    if url is None:
        raise missing_param("webhook_endpoint.url")
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        raise invalid("The emulator only delivers to loopback URLs.", param="webhook_endpoint.url")
    events = p.get("enabled_events")
    if not isinstance(events, list) or not events:
        raise missing_param("enabled_events")
    if get_str(p, "event_payload") != "thin":
        raise invalid(
            "The emulator sends thin event payloads only.",
            param="event_payload",
            code="emulator_unsupported",
        )
    now = iso(req.now)
    dest: dict[str, Any] = {
        "id": new_id("ed"),
        "object": "v2.core.event_destination",
        "created": now,
        "description": get_str(p, "description") or "",
        "enabled_events": [str(e) for e in events],
        "event_payload": "thin",
        "livemode": False,
        "metadata": metadata(p),
        "name": get_str(p, "name", required=True),
        "status": "enabled",
        "type": "webhook_endpoint",
        "updated": now,
        "webhook_endpoint": {"url": url},
        "_secret": "whsec_" + secrets.token_hex(16),
    }
    req.emu.store.put("event_destinations", dest["id"], dest)
    return _view(dest)


def _get(req: Req) -> dict[str, Any]:
    dest: dict[str, Any] | None = req.emu.store.get("event_destinations", req.path_params["id"])
    if dest is None:
        raise _not_found("event destination", req.path_params["id"])
    return dest


def retrieve_destination(req: Req) -> Any:
    return _view(_get(req))


def list_destinations(req: Req) -> Any:
    dests = [_view(d) for d in req.emu.store.collection("event_destinations").values()]
    return {"data": dests[:MAX_LIST], "next_page_url": None, "previous_page_url": None}


def delete_destination(req: Req) -> Any:
    dest = _get(req)
    del req.emu.store.collection("event_destinations")[dest["id"]]
    return Reply({"id": dest["id"], "object": "v2.core.event_destination", "deleted": True})


def _status(req: Req, status: str) -> Any:
    dest = _get(req)
    dest["status"] = status
    dest["updated"] = iso(req.now)
    return _view(dest)


def enable(req: Req) -> Any:
    return _status(req, "enabled")


def disable(req: Req) -> Any:
    return _status(req, "disabled")


def retrieve_event(req: Req) -> Any:
    event = req.emu.store.get("v2_events", req.path_params["id"])
    if event is None:
        raise _not_found("event", req.path_params["id"])
    return event


_BOUNDS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda at, bound: at > bound,
    "gte": lambda at, bound: at >= bound,
    "lt": lambda at, bound: at < bound,
    "lte": lambda at, bound: at <= bound,
}
DEFAULT_PAGE = 20


def _filters(p: dict[str, Any]) -> dict[str, Any]:
    """The filters of a first page, or those a `page` token carries (`next_page_url`)."""
    token = get_str(p, "page")
    if token is None:
        return p
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError):
        decoded = None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("offset"), int):
        raise invalid("Invalid page token.", param="page")
    return decoded


def _created_ok(event: dict[str, Any], created: Any) -> bool:
    if not isinstance(created, dict):
        return True
    at = parse_ts(event["created"], "created")
    assert at is not None
    for op, check in _BOUNDS.items():
        bound = parse_ts(created.get(op), f"created[{op}]")
        if bound is not None and not check(at, bound):
            return False
    return True


def list_events(req: Req) -> Any:
    """Newest first, `limit` a page (at most 100), filtered by `types`, `object_id` and
    `created`; `next_page_url` carries the filters and the position in a `page` token."""
    f = _filters(req.params)
    types = f.get("types")
    wanted = None if types in (None, "") else set(types if isinstance(types, list) else [types])
    object_id = get_str(f, "object_id")
    limit = get_int(f, "limit") or DEFAULT_PAGE
    if not 1 <= limit <= MAX_LIST:
        raise invalid(f"limit must be between 1 and {MAX_LIST}.", param="limit")
    events = [
        e
        for e in reversed(list(req.emu.store.collection("v2_events").values()))
        if (wanted is None or e["type"] in wanted)
        and object_id in (None, (e["related_object"] or {}).get("id"))
        and _created_ok(e, f.get("created"))
    ]
    offset = int(f.get("offset", 0))
    page = events[offset : offset + limit]
    following = None
    if offset + limit < len(events):
        carried = {k: f[k] for k in ("types", "object_id", "created") if f.get(k) is not None}
        token = base64.urlsafe_b64encode(
            json.dumps({**carried, "limit": limit, "offset": offset + limit}).encode()
        ).decode()
        following = f"/v2/core/events?page={token}"
    return {"data": page, "next_page_url": following, "previous_page_url": None}


def register(router: Router) -> None:
    base = "/v2/core/event_destinations"
    router.add("POST", base, create_destination)
    router.add("GET", base, list_destinations)
    router.add("GET", base + "/{id}", retrieve_destination)
    router.add("DELETE", base + "/{id}", delete_destination)
    router.add("POST", base + "/{id}/enable", enable)
    router.add("POST", base + "/{id}/disable", disable)
    router.add("GET", "/v2/core/events", list_events)
    router.add("GET", "/v2/core/events/{id}", retrieve_event)
