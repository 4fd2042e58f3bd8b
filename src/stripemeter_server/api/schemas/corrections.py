"""Adjustments, voids, four-eyes decisions, backfills and rebuilds on the wire."""

from __future__ import annotations

import msgspec

from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    Instant,
    Unset,
    request_body,
    shape_of,
)


class AdjustmentRequest(Body):
    metric: str
    customer_ref: str
    delta: DecimalInput
    reason: str | Unset | None = UNSET
    note: str | Unset | None = UNSET
    period_start: Instant | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class VoidRequest(Body):
    idempotency_key: str


class PolicyChange(Body):
    four_eyes: bool


class Decision(Body):
    """A four-eyes decision; a ``note`` that is not a string is ignored."""

    note: str | Unset | None = UNSET


class BackfillRequest(Body):
    metric: str
    customers: list[str] | Unset | None = UNSET
    from_: Instant | Unset = msgspec.field(default=UNSET, name="from")
    to: Instant | Unset = UNSET
    note: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class RebuildRequest(Body):
    metric: str
    customer_ref: str | Unset | None = UNSET
    wait_seconds: int | Unset = UNSET
    tenant_id: str | Unset = UNSET


ADJUSTMENT = request_body(
    AdjustmentRequest,
    examples=(
        {
            "metric": "api_calls",
            "customerRef": "cus_ABC123",
            "delta": "-100",
            "reason": "credit",
            "note": "outage on the 3rd",
        },
    ),
)
VOID = request_body(VoidRequest, examples=({"idempotencyKey": "order/42/line/4"},))
POLICY = request_body(PolicyChange, examples=({"fourEyes": True},))
DECISION = request_body(
    Decision, examples=({"note": "checked against the contract"},), required=False
)
BACKFILL = request_body(
    BackfillRequest,
    examples=(
        {
            "metric": "api_calls",
            "customers": ["cus_ABC123"],
            "from": "2024-01-01T00:00:00Z",
            "to": "2025-01-01T00:00:00Z",
            "note": "re-import 2024 from the warehouse",
        },
    ),
)
REBUILD = request_body(
    RebuildRequest, examples=({"metric": "api_calls", "customerRef": "cus_ABC123"},)
)
ADJUSTMENT_SHAPE = shape_of(AdjustmentRequest)
VOID_SHAPE = shape_of(VoidRequest)
POLICY_SHAPE = shape_of(PolicyChange)
DECISION_SHAPE = shape_of(Decision)
BACKFILL_SHAPE = shape_of(BackfillRequest)
REBUILD_SHAPE = shape_of(RebuildRequest)
