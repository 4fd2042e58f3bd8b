"""Validation of incoming events: one specific error code per problem.

Validation is pure and per event, so one malformed event is reported in its own result
while the rest of the batch goes on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from stripemeter_server.domain import json_text
from stripemeter_server.domain.bounded import (
    MAX_INSTANT,
    MIN_INSTANT,
    check_string,
    find_unsafe,
    parse_instant,
    unsafe_reason,
)
from stripemeter_server.domain.decimals import ONE, ZERO, parse_decimal
from stripemeter_server.domain.errors import EventRejected, ValidationError
from stripemeter_server.domain.idempotency import (
    derive_idempotency_key,
    fingerprint_of,
    payload_fingerprint,
)
from stripemeter_server.domain.json_text import canonicalize
from stripemeter_server.domain.timestamps import format_timestamp


@dataclass(frozen=True, slots=True)
class EventLimits:
    max_string_length: int = 255
    max_meta_bytes: int = 4096
    max_future_skew: timedelta = timedelta(minutes=5)


class ValidEvent(NamedTuple):
    """A checked event (a tuple: one is built per event on the ingest hot path)."""

    metric: str
    customer_ref: str
    quantity: Decimal
    ts: datetime
    resource_id: str | None
    meta: Mapping[str, Any] | None
    meta_json: str | None
    idempotency_key: str
    fingerprint: str
    # The backfill session the event is imported in (not part of its key or fingerprint:
    # an event already in the ledger is a duplicate whichever session re-sends it).
    backfill_id: str | None = None


def validate_event(
    raw: object, *, tenant_id: str, received_at: datetime, limits: EventLimits
) -> ValidEvent:
    """Check one event and derive its idempotency key; raises ``EventRejected``."""
    fast = _accept_plain(raw, tenant_id, received_at, limits)
    if fast is not None:
        return fast
    return validate_fully(raw, tenant_id=tenant_id, received_at=received_at, limits=limits)


def validate_fully(
    raw: object, *, tenant_id: str, received_at: datetime, limits: EventLimits
) -> ValidEvent:
    """Every check, with its one error code and message (the fast path defers to this)."""
    if not isinstance(raw, Mapping):
        raise EventRejected("each event must be a JSON object", code="invalid_event")
    metric = _required_string(raw, "metric", limits)
    customer_ref = _required_string(raw, "customerRef", limits)
    resource_id = _optional_string(raw, "resourceId", limits)
    quantity = _quantity(raw.get("quantity", ONE))
    ts_given = raw.get("ts") is not None
    ts = _timestamp(raw["ts"], received_at, limits) if ts_given else received_at
    meta, meta_json = _meta(raw.get("meta"), limits)
    key = _optional_string(raw, "idempotencyKey", limits)
    if key is None:
        key = derive_idempotency_key(
            tenant_id=tenant_id,
            metric=metric,
            customer_ref=customer_ref,
            resource_id=resource_id,
            ts=ts,
            quantity=quantity,
            meta=meta,
        )
    elif not key:
        raise EventRejected(
            "idempotencyKey must not be empty",
            code="invalid_idempotency_key",
            field="idempotencyKey",
        )
    fingerprint = payload_fingerprint(
        metric=metric,
        customer_ref=customer_ref,
        resource_id=resource_id,
        ts=ts if ts_given else None,
        quantity=quantity,
        meta=meta,
    )
    backfill_id = _optional_string(raw, "backfillId", limits)
    return ValidEvent(
        metric,
        customer_ref,
        quantity,
        ts,
        resource_id,
        meta,
        meta_json,
        key,
        fingerprint,
        backfill_id or None,
    )


# The common event: ASCII identifiers, a decimal quantity, an RFC 3339 ``ts`` in the usual
# ``T``/``Z``/offset form. It is only ever *accepted* here; anything else, valid or not, goes
# through the full checks above, so every error keeps its one code and message (the
# equivalence is property-tested).
PLAIN_TS = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-][01]\d:[0-5]\d)", re.ASCII
)


# ``PLAIN_TS`` text of this length ending in ``Z`` has six fraction digits and no offset:
# the canonical form the fingerprint hashes, character for character.
CANONICAL_TS_LENGTH = len("2000-01-01T00:00:00.000000Z")


def _plain_id(value: object, limit: int) -> bool:
    return (
        type(value) is str and 0 < len(value) <= limit and value.isascii() and "\x00" not in value
    )


# A quantity as msgspec decodes a JSON number: at most 20 digits, 12 of them after the point,
# no sign (so inside the range and not negative, as written).
PLAIN_QUANTITY = re.compile(r"(?=[0-9.]{1,21}$)[0-9]{1,20}(?:\.[0-9]{1,12})?", re.ASCII)


def plain_quantity(raw: object) -> Decimal | None:
    """The quantity when it is a plain non-negative decimal; None sends it to the full checks."""
    if type(raw) is Decimal and PLAIN_QUANTITY.fullmatch(str(raw)):
        return ZERO if raw.is_zero() else raw
    try:
        return _quantity(raw)
    except EventRejected:
        return None


def _accept_plain(
    raw: object, tenant_id: str, received_at: datetime, limits: EventLimits
) -> ValidEvent | None:
    if type(raw) is not dict or raw.get("meta") is not None:
        return None
    metric, customer_ref = raw.get("metric"), raw.get("customerRef")
    key, resource_id = raw.get("idempotencyKey"), raw.get("resourceId")
    backfill_id, ts_text = raw.get("backfillId"), raw.get("ts")
    limit = limits.max_string_length
    if not (
        _plain_id(metric, limit)
        and _plain_id(customer_ref, limit)
        and (key is None or _plain_id(key, limit))
        and (resource_id is None or _plain_id(resource_id, limit))
        and (backfill_id is None or _plain_id(backfill_id, limit))
    ):
        return None
    quantity = plain_quantity(raw.get("quantity", ONE))
    if quantity is None:
        return None
    if ts_text is None:
        ts = received_at
    elif type(ts_text) is str and PLAIN_TS.fullmatch(ts_text):
        try:
            ts = datetime.fromisoformat(ts_text).astimezone(UTC)
        except ValueError:  # hour 24, day 31 of a short month...: the full parser says why
            return None
        if not MIN_INSTANT <= ts < MAX_INSTANT or ts > received_at + limits.max_future_skew:
            return None
    else:
        return None
    assert isinstance(metric, str) and isinstance(customer_ref, str)
    if key is None:
        key = derive_idempotency_key(
            tenant_id=tenant_id,
            metric=metric,
            customer_ref=customer_ref,
            resource_id=resource_id,
            ts=ts,
            quantity=quantity,
            meta=None,
        )
    if ts_text is None:
        canonical = None
    elif len(ts_text) == CANONICAL_TS_LENGTH and ts_text[-1] == "Z":
        canonical = ts_text  # already ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: what formatting gives
    else:
        canonical = format_timestamp(ts)
    fingerprint = fingerprint_of(metric, customer_ref, resource_id, canonical, quantity)
    return ValidEvent(
        metric,
        customer_ref,
        quantity,
        ts,
        resource_id,
        None,
        None,
        str(key),
        fingerprint,
        backfill_id,
    )


def echoable_key(raw: object) -> str | None:
    """A rejected event's own idempotencyKey, to echo in its result, when it is safe to echo
    (a string that encodes: a lone surrogate would break the whole response)."""
    key = raw.get("idempotencyKey") if isinstance(raw, Mapping) else None
    if isinstance(key, str) and unsafe_reason(key) is None:
        return key[:255]
    return None


def _required_string(raw: Mapping[str, Any], name: str, limits: EventLimits) -> str:
    value = raw.get(name)
    if value is None or value == "":
        raise EventRejected(f"{name} is required", code="missing_field", field=name)
    return _checked_string(value, name, limits)


def _optional_string(raw: Mapping[str, Any], name: str, limits: EventLimits) -> str | None:
    value = raw.get(name)
    return None if value is None else _checked_string(value, name, limits)


def _checked_string(value: object, name: str, limits: EventLimits) -> str:
    try:
        return check_string(value, name, max_length=limits.max_string_length, required=False)
    except ValidationError as exc:
        raise EventRejected(exc.message, code=exc.code, field=name) from None


def _quantity(raw: object) -> Decimal:
    try:
        value = parse_decimal(raw)  # the one bounded parser: range and precision included
    except ValueError as exc:
        raise EventRejected(f"quantity {exc}", code="invalid_quantity", field="quantity") from None
    if value < 0:
        raise EventRejected(
            "quantity must not be negative (book corrections as adjustments)",
            code="invalid_quantity",
            field="quantity",
        )
    return value


def _timestamp(raw: object, received_at: datetime, limits: EventLimits) -> datetime:
    if not isinstance(raw, str):
        raise EventRejected("ts must be an RFC 3339 string", code="invalid_timestamp", field="ts")
    try:
        ts = parse_instant(raw, "ts")
    except ValidationError as exc:
        raise EventRejected(exc.message, code="invalid_timestamp", field="ts") from None
    if ts > received_at + limits.max_future_skew:
        raise EventRejected(
            f"ts is more than {int(limits.max_future_skew.total_seconds())} s in the future",
            code="timestamp_in_future",
            field="ts",
        )
    return ts


def _meta(raw: object, limits: EventLimits) -> tuple[Mapping[str, Any] | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        raise EventRejected("meta must be a JSON object", code="invalid_meta", field="meta")
    unsafe = find_unsafe(raw, "meta")
    if unsafe is not None:
        raise EventRejected(f"{unsafe[0]} {unsafe[2]}", code="invalid_meta", field=unsafe[0])
    try:
        text = json_text.dumps(raw)
    except (TypeError, ValueError) as exc:
        raise EventRejected(f"meta {exc}", code="invalid_meta", field="meta") from None
    try:  # the derived key hashes meta as RFC 8785 JSON: numbers must be finite doubles
        canonicalize(raw)
    except (TypeError, ValueError) as exc:
        raise EventRejected(f"meta {exc}", code="invalid_meta", field="meta") from None
    size = len(text.encode("utf-8"))
    if size > limits.max_meta_bytes:
        raise EventRejected(
            f"meta is {size} bytes; at most {limits.max_meta_bytes} allowed",
            code="meta_too_large",
            field="meta",
        )
    return (raw, text) if raw else (None, None)
