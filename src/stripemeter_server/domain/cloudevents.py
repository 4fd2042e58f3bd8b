"""CloudEvents 1.0 (OpenMeter's ingest shape) onto stripemeter events.

``type`` names the metric, ``subject`` the customer, ``time`` the event time and ``data`` is
kept as the event's ``meta``, so a metric reads its value from it with
``valueProperty: "meta.<name>"`` (OpenMeter's ``$.<name>``); ``data.quantity``, when present,
is the event's quantity. The idempotency key comes from ``source`` + ``id`` (which CloudEvents
declares unique per source), so a producer's retries are duplicates:
``"ce_"`` + the first 32 hex digits of SHA-256 over the JCS array
``["cloudevents", source, id]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from stripemeter_server.domain.bounded import unsafe_reason
from stripemeter_server.domain.errors import EventRejected
from stripemeter_server.domain.json_text import canonicalize

SPEC_VERSION = "1.0"
MAX_ATTRIBUTE_LENGTH = 255


def cloudevent_key(source: str, event_id: str) -> str:
    digest = hashlib.sha256(canonicalize(["cloudevents", source, event_id])).hexdigest()
    return "ce_" + digest[:32]


def to_event(raw: object) -> dict[str, Any]:
    """The ingest body of one CloudEvent; raises ``EventRejected`` naming the attribute."""
    if not isinstance(raw, Mapping):
        raise EventRejected("each CloudEvent must be a JSON object", code="invalid_event")
    if raw.get("specversion") != SPEC_VERSION:
        raise EventRejected(
            'specversion must be "1.0"', code="invalid_specversion", field="specversion"
        )
    source, event_id = _attribute(raw, "source"), _attribute(raw, "id")
    event: dict[str, Any] = {
        "metric": _attribute(raw, "type"),
        "customerRef": _attribute(raw, "subject"),
        "idempotencyKey": cloudevent_key(source, event_id),
    }
    if raw.get("time") is not None:
        event["ts"] = raw["time"]
    data = _data(raw)
    if data is not None:
        event["meta"] = data
        if data.get("quantity") is not None:
            event["quantity"] = data["quantity"]
    return event


def _attribute(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise EventRejected(
            f"{name} is required (a non-empty string)", code="missing_field", field=name
        )
    if len(value) > MAX_ATTRIBUTE_LENGTH:
        raise EventRejected(
            f"{name} is longer than {MAX_ATTRIBUTE_LENGTH} characters",
            code="field_too_long",
            field=name,
        )
    reason = unsafe_reason(value)  # a lone surrogate cannot be hashed into the key
    if reason is not None:
        raise EventRejected(f"{name} {reason}", code="invalid_field", field=name)
    return value


def _data(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    content_type = raw.get("datacontenttype")
    if content_type is not None and content_type != "application/json":
        raise EventRejected(
            'datacontenttype must be "application/json"',
            code="invalid_data",
            field="datacontenttype",
        )
    data = raw.get("data")
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise EventRejected("data must be a JSON object", code="invalid_data", field="data")
    return data
