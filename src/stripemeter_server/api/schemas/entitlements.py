"""Features, grants, extra grants, checks and reservations on the wire."""

from __future__ import annotations

from typing import Any

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    DecimalText,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    request_body,
    response,
)


class FeatureChange(StrictBody):
    type: str
    key: str | Unset = UNSET
    name: str | Unset | None = UNSET
    config: JsonObject | Unset | None = UNSET
    metric: str | Unset | None = UNSET
    filter: JsonObject | Unset | None = UNSET
    reset: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class GrantChange(StrictBody):
    enabled: bool | Unset = UNSET
    limit: DecimalInput | Unset | None = UNSET
    enforcement: str | Unset | None = UNSET
    overage: DecimalInput | Unset | None = UNSET
    config: JsonObject | Unset | None = UNSET
    effective_at: Instant | Unset | None = UNSET
    expires_at: Instant | Unset | None = UNSET
    stop_at_zero_credit: bool | Unset = UNSET
    customer_ref: str | Unset = UNSET
    feature: str | Unset = UNSET
    tenant_id: str | Unset = UNSET


class ExtraGrant(StrictBody):
    amount: DecimalInput
    idempotency_key: str | Unset | None = UNSET
    note: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class AccessCheck(StrictBody):
    customer_ref: str
    feature: str
    quantity: DecimalInput | Unset = UNSET
    tenant_id: str | Unset = UNSET


class ReservationRequest(StrictBody):
    customer_ref: str
    feature: str
    quantity: DecimalInput
    ttl_seconds: int | Unset | None = UNSET
    idempotency_key: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class ReservationCommit(StrictBody):
    quantity: DecimalInput | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


FEATURE = request_body(
    FeatureChange,
    examples=(
        {
            "type": "metered",
            "name": "LLM tokens",
            "metric": "tokens",
            "filter": {"meta.model": "large"},
            "reset": "billingPeriod",
        },
    ),
)
GRANT = request_body(
    GrantChange,
    examples=(
        {
            "limit": "1000000",
            "enforcement": "hard",
            "overage": "5000",
            "effectiveAt": "2025-01-01T00:00:00Z",
        },
    ),
)
EXTRA_GRANT = request_body(ExtraGrant, examples=({"amount": "50000", "idempotencyKey": "pack-1"},))
CHECK = request_body(
    AccessCheck, examples=({"customerRef": "cus_1", "feature": "tokens", "quantity": "4000"},)
)
RESERVE = request_body(
    ReservationRequest,
    examples=(
        {
            "customerRef": "cus_1",
            "feature": "tokens",
            "quantity": "4000",
            "ttlSeconds": 60,
            "idempotencyKey": "call-7f3a",
        },
    ),
)
COMMIT = request_body(ReservationCommit, examples=({"quantity": "3120"},), required=False)


# --- answers ------------------------------------------------------------------------------


class FeatureAnswer(StrictBody, kw_only=True):
    """A feature: ``config`` for a static one; ``metric``, ``filter`` and ``reset`` for a
    metered one."""

    key: str
    type: str
    name: str | None
    config: Any | Unset = UNSET
    metric: str | Unset | None = UNSET
    filter: JsonObject | Unset | None = UNSET
    reset: str | Unset = UNSET


class FeatureList(StrictBody):
    data: list[FeatureAnswer]


class GrantAnswer(StrictBody, kw_only=True):
    """A customer's grant of a feature; the limit's terms only when it has a limit."""

    customer_ref: str
    feature: str
    enabled: bool
    effective_at: Instant | None
    expires_at: Instant | None
    config: Any | Unset = UNSET
    limit: DecimalText | Unset = UNSET
    enforcement: str | Unset = UNSET
    overage: DecimalText | Unset = UNSET
    stop_at_zero_credit: bool | Unset = UNSET
    created_at: Instant
    updated_at: Instant


class AccessAnswer(StrictBody):
    customer_ref: str
    feature: str
    type: str
    has_access: bool
    reason: str
    usage: DecimalText | None
    reserved: DecimalText | None
    limit: DecimalText | None
    balance: DecimalText | None
    headroom: DecimalText | None
    resets_at: Instant | None
    enforcement: str | None
    config: Any


class AccessList(StrictBody):
    data: list[AccessAnswer]


class CheckAnswer(StrictBody):
    """Whether this quantity is allowed, then the access answer."""

    allowed: bool
    quantity: DecimalText | None
    customer_ref: str
    feature: str
    type: str
    has_access: bool
    reason: str
    usage: DecimalText | None
    reserved: DecimalText | None
    limit: DecimalText | None
    balance: DecimalText | None
    headroom: DecimalText | None
    resets_at: Instant | None
    enforcement: str | None
    config: Any


class ExtraGrantAnswer(StrictBody):
    id: str
    customer_ref: str
    feature: str
    amount: DecimalText
    window_start: Instant
    window_end: Instant
    idempotency_key: str | None
    note: str | None
    created_at: Instant


class ReservationAnswer(StrictBody):
    """A reservation; ``entitlement`` (the access after it) only in the answer to a hold."""

    id: str
    customer_ref: str
    feature: str
    quantity: DecimalText
    status: str
    idempotency_key: str | None
    created_at: Instant
    expires_at: Instant
    finished_at: Instant | None
    committed_quantity: DecimalText | None
    event_key: str | None
    entitlement: AccessAnswer | Unset = UNSET


Answers = dict[int | str, dict[str, Any]]
FEATURE_PUT: Answers = {
    201: response(FeatureAnswer, "Created"),
    200: {"description": "An existing feature was replaced"},
}
FEATURE_ANSWER: Answers = {200: response(FeatureAnswer, "The feature")}
FEATURES: Answers = {200: response(FeatureList, "Every feature")}
GRANT_PUT: Answers = {
    201: response(GrantAnswer, "Created"),
    200: {"description": "An existing grant was replaced"},
}
GRANT_ANSWER: Answers = {200: response(GrantAnswer, "The grant")}
EXTRA_CREATED: Answers = {
    201: response(ExtraGrantAnswer, "Granted for the current window"),
    200: {"description": "The same idempotencyKey was granted before"},
}
ACCESS: Answers = {200: response(AccessAnswer, "Whether the customer has access, and why")}
ACCESS_LIST: Answers = {200: response(AccessList, "Every feature the customer may use")}
CHECK_ANSWER: Answers = {200: response(CheckAnswer, "Whether the quantity is allowed now")}
RESERVED: Answers = {
    201: response(ReservationAnswer, "Held"),
    200: {"description": "The same idempotencyKey reserved before"},
}
RESERVATION: Answers = {200: response(ReservationAnswer, "The reservation")}
