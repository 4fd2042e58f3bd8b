"""Features, grants, extra grants, checks and reservations on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    request_body,
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
