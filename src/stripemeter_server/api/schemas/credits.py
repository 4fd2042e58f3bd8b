"""Credit grants on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    Instant,
    StrictBody,
    Unset,
    request_body,
)


class CreditGrantRequest(StrictBody):
    amount: DecimalInput
    currency: str | Unset | None = UNSET
    unit: str | Unset | None = UNSET
    category: str | Unset | None = UNSET
    priority: int | Unset | None = UNSET
    effective_at: Instant | Unset | None = UNSET
    expires_at: Instant | Unset | None = UNSET
    applies_to: list[str] | Unset | None = UNSET
    idempotency_key: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


CREDIT_GRANT = request_body(
    CreditGrantRequest,
    examples=(
        {
            "amount": "100.00",
            "currency": "usd",
            "category": "paid",
            "priority": 10,
            "effectiveAt": "2025-01-01T00:00:00Z",
            "expiresAt": "2026-01-01T00:00:00Z",
            "appliesTo": ["tokens"],
            "idempotencyKey": "topup-2025-01",
        },
    ),
)
