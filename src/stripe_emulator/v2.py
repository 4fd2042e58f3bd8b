"""v2 billing: meter event sessions (15-minute tokens), high-throughput streams
(≤ 100 events per request), and v2 meter events / adjustments with JSON bodies."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from stripe_emulator.errors import StripeError, invalid, missing_param
from stripe_emulator.forms import get_dict, get_str
from stripe_emulator.meter_events import cancel, ingest
from stripe_emulator.routing import Req, Router
from stripe_emulator.store import new_id, public

MAX_STREAM_EVENTS = 100


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_ts(value: Any, param: str) -> int | None:
    """v2 timestamps are RFC 3339 strings; integers are accepted as a convenience."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise invalid(f"Invalid timestamp: {value}", param=param) from None


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    payload = body.get("payload")
    if payload is None:
        raise missing_param("payload")
    if not isinstance(payload, dict):
        raise invalid("payload must be an object", param="payload")
    return payload


def authenticate_stream(req: Req, token: str) -> None:
    """Streams are authorised by a session token, not an API key."""
    sessions = req.emu.store.collection("meter_event_sessions")
    session = next((s for s in sessions.values() if s["authentication_token"] == token), None)
    if session is None:
        raise StripeError(
            401,
            "Invalid or missing meter event session token.",
            type="invalid_request_error",
            code="unauthorized",
        )
    if session["_expires_at"] <= req.now:
        raise StripeError(
            401,
            "The meter event session has expired; create a new one.",
            type="temporary_session_expired",
            code="billing_meter_event_session_expired",
        )


def create_session(req: Req) -> Any:
    now = req.now
    expires = now + req.emu.config.meter_event_session_ttl
    session = {
        "id": new_id("mes"),
        "object": "v2.billing.meter_event_session",
        "authentication_token": "mes_token_" + secrets.token_urlsafe(24),
        "created": iso(now),
        "expires_at": iso(expires),
        "livemode": False,
        "_expires_at": expires,
    }
    req.emu.store.put("meter_event_sessions", session["id"], session)
    return public(session)


def _v2_event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "v2.billing.meter_event",
        "created": iso(event["created"]),
        "event_name": event["event_name"],
        "identifier": event["identifier"],
        "livemode": False,
        "payload": event["payload"],
        "timestamp": iso(event["timestamp"]),
    }


def create_event(req: Req) -> Any:
    body = req.params
    event = ingest(
        req,
        get_str(body, "event_name"),
        _payload(body),
        get_str(body, "identifier"),
        parse_ts(body.get("timestamp"), "timestamp"),
        "v2",
    )
    return _v2_event(event)


def create_adjustment(req: Req) -> Any:
    body = req.params
    if (get_str(body, "type") or "cancel") != "cancel":
        raise invalid("type must be cancel", param="type")
    record = cancel(
        req, get_str(body, "event_name"), get_str(get_dict(body, "cancel"), "identifier"), "v2"
    )
    return {
        "id": record["id"],
        "object": "v2.billing.meter_event_adjustment",
        "cancel": {"identifier": record["identifier"]},
        "created": iso(record["created"]),
        "event_name": record["event_name"],
        "livemode": False,
        "status": "complete",
        "type": "cancel",
    }


def stream(req: Req) -> Any:
    """Accept a batch; per-event problems are recorded (Stripe reports them asynchronously
    through error-report events) rather than failing the request."""
    events = req.params.get("events")
    if not isinstance(events, list) or not events:
        raise missing_param("events")
    if len(events) > MAX_STREAM_EVENTS:
        raise invalid(
            f"A stream request can contain at most {MAX_STREAM_EVENTS} events.", param="events"
        )
    errors: list[dict[str, Any]] = req.emu.store.extra.setdefault("stream_errors", [])
    for index, raw in enumerate(events):
        try:
            if not isinstance(raw, dict):
                raise invalid("each event must be an object", param=f"events[{index}]")
            ingest(
                req,
                get_str(raw, "event_name"),
                _payload(raw),
                get_str(raw, "identifier"),
                parse_ts(raw.get("timestamp"), "timestamp"),
                "stream",
            )
        except StripeError as err:
            errors.append(
                {
                    "index": index,
                    "identifier": (raw or {}).get("identifier") if isinstance(raw, dict) else None,
                    "code": err.code,
                    "message": err.message,
                    "at": req.now,
                }
            )
    return {}


def register(router: Router) -> None:
    router.add("POST", "/v2/billing/meter_event_session", create_session)
    router.add("POST", "/v2/billing/meter_event_stream", stream)
    router.add("POST", "/v2/billing/meter_events", create_event)
    router.add("POST", "/v2/billing/meter_event_adjustments", create_adjustment)
