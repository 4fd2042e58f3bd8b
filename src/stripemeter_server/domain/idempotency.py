"""Derived idempotency keys and payload fingerprints.

The SDKs compute the same key client-side (see ``tests/vectors/idempotency.json``), so a retry
is deduplicated even when the first attempt's response was lost. Every input is reduced to one
canonical text (UTC microsecond timestamp, plain-notation decimal, JCS JSON) before hashing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.json_text import canonicalize
from stripemeter_server.domain.timestamps import format_timestamp

__all__ = ["derive_idempotency_key", "fingerprint_of", "format_quantity", "payload_fingerprint"]

KEY_PREFIX = "evt_"
_HEX_DIGITS = 32
# Built once: ``json.dumps`` with options builds a new encoder on every call.
_STRINGS_ONLY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Printable ASCII but for the quote and the backslash: text the JSON encoder writes as it is.
VERBATIM = re.compile(r"[ !#-\[\]-~]*", re.ASCII)


def format_quantity(q: Decimal) -> str:
    """Plain notation without exponent or insignificant zeros: ``1.50`` -> ``"1.5"``.

    Works on the digits as text: ``Decimal.normalize`` would round to the context precision.
    """
    if not q.is_finite():
        raise ValueError(f"quantity {q} is not a finite number")
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _digest(parts: list[object]) -> str:
    if parts[-1] is None:
        # Strings and nulls only (meta is absent): the standard encoder's text is already
        # JCS, so the generic walk is skipped (the ingest hot path hashes every event).
        text = _STRINGS_ONLY.encode(parts)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HEX_DIGITS]
    return hashlib.sha256(canonicalize(parts)).hexdigest()[:_HEX_DIGITS]


def derive_idempotency_key(
    *,
    tenant_id: str,
    metric: str,
    customer_ref: str,
    resource_id: str | None,
    ts: datetime,
    quantity: Decimal,
    meta: Mapping[str, object] | None,
) -> str:
    """The key of an event sent without one: ``evt_`` + 32 hex digits of SHA-256 over JCS of
    ``[tenantId, metric, customerRef, resourceId or "", ts, quantity, meta or null]``."""
    return KEY_PREFIX + _digest(
        [
            tenant_id,
            metric,
            customer_ref,
            resource_id or "",
            format_timestamp(ts),
            format_quantity(quantity),
            meta if meta else None,
        ]
    )


def payload_fingerprint(
    *,
    metric: str,
    customer_ref: str,
    resource_id: str | None,
    ts: datetime | None,
    quantity: Decimal,
    meta: Mapping[str, object] | None,
) -> str:
    """Tells a duplicate (same key, same payload) from a conflict (same key, other payload).

    ``ts`` is None when the client sent none, so a retry stamped with a new receive time is
    still recognised as the same payload.
    """
    ts_text = format_timestamp(ts) if ts is not None else None
    return fingerprint_of(metric, customer_ref, resource_id, ts_text, quantity, meta)


def fingerprint_of(
    metric: str,
    customer_ref: str,
    resource_id: str | None,
    ts_text: str | None,
    quantity: Decimal,
    meta: Mapping[str, object] | None = None,
) -> str:
    """``payload_fingerprint`` with the timestamp already in its canonical text (the ingest
    hot path has it: most events are sent in that very form)."""
    resource = resource_id or ""
    if not meta and VERBATIM.fullmatch(metric + customer_ref + resource):
        # The common event (no meta, identifiers the encoder copies as they are): its JSON
        # text written directly, the same bytes ``_digest`` hashes (property-tested).
        when = "null" if ts_text is None else f'"{ts_text}"'
        text = (
            f'["{metric}","{customer_ref}","{resource}",{when},"{format_quantity(quantity)}",null]'
        )
        return hashlib.sha256(text.encode()).hexdigest()[:_HEX_DIGITS]
    return _digest(
        [metric, customer_ref, resource, ts_text, format_quantity(quantity), meta if meta else None]
    )
