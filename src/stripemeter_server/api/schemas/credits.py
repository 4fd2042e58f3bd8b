"""Credit grants and balances on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from stripemeter_server.api.serialize import instant, ts
from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    DecimalText,
    Instant,
    StrictBody,
    Unset,
    render,
    request_body,
    response,
)
from stripemeter_server.domain.credits import UNIT_PREFIX, CreditGrant
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.service.credits.balance import Balance, CreditSummary, GrantState


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


# --- answers ------------------------------------------------------------------------------


class CreditGrantAnswer(StrictBody):
    id: str
    customer_ref: str
    amount: DecimalText
    currency: str | None
    unit: str | None
    category: str
    priority: int
    effective_at: Instant
    expires_at: Instant | None
    applies_to: list[str] | None
    voided_at: Instant | None
    idempotency_key: str


class GrantStateAnswer(CreditGrantAnswer):
    """A grant with what it has given and what it has left."""

    drawn: DecimalText
    remaining: DecimalText
    status: Literal["active", "pending", "exhausted", "expired", "voided"]


class GrantList(StrictBody):
    data: list[GrantStateAnswer]
    as_of: Instant


class BalanceAnswer(StrictBody):
    currency: str | None
    unit: str | None
    balance: DecimalText
    burned_last_day: DecimalText
    burned_last_week: DecimalText
    daily_burn_rate: DecimalText
    projected_run_out: Instant | None


class CreditsAnswer(StrictBody):
    customer_ref: str
    as_of: Instant
    balances: list[BalanceAnswer]
    grants: list[GrantStateAnswer]


def _grant_fields(grant: CreditGrant) -> dict[str, Any]:
    return {
        "id": grant.grant_id,
        "customer_ref": grant.customer_ref,
        "amount": to_plain_string(grant.amount),
        "currency": grant.currency,
        "unit": grant.unit,
        "category": grant.category.value,
        "priority": grant.priority,
        "effective_at": instant(grant.effective_at),
        "expires_at": ts(grant.expires_at),
        "applies_to": None if grant.applies_to is None else sorted(grant.applies_to),
        "voided_at": ts(grant.voided_at),
        "idempotency_key": grant.idempotency_key,
    }


def grant_json(grant: CreditGrant) -> dict[str, Any]:
    return render(CreditGrantAnswer(**_grant_fields(grant)))


def _grant_state(state: GrantState) -> GrantStateAnswer:
    return GrantStateAnswer(
        **_grant_fields(state.grant),
        drawn=to_plain_string(state.drawn),
        remaining=to_plain_string(state.remaining),
        status=cast(Any, state.status),
    )


def grants_json(states: list[GrantState], as_of: datetime) -> dict[str, Any]:
    return render(GrantList(data=[_grant_state(s) for s in states], as_of=instant(as_of)))


def _balance(b: Balance) -> BalanceAnswer:
    money = not b.denomination.startswith(UNIT_PREFIX)
    return BalanceAnswer(
        currency=b.denomination if money else None,
        unit=None if money else b.denomination.removeprefix(UNIT_PREFIX),
        balance=to_plain_string(b.balance),
        burned_last_day=to_plain_string(b.burned_last_day),
        burned_last_week=to_plain_string(b.burned_last_week),
        daily_burn_rate=to_plain_string(b.daily_rate),
        projected_run_out=ts(b.projected_run_out),
    )


def credits_json(summary: CreditSummary) -> dict[str, Any]:
    """The balance's JSON shape (the dashboard and the portal show the same)."""
    return render(
        CreditsAnswer(
            customer_ref=summary.customer_ref,
            as_of=instant(summary.as_of),
            balances=[_balance(b) for b in summary.balances],
            grants=[_grant_state(s) for s in summary.grants],
        )
    )


GRANT_ANSWER: dict[int | str, dict[str, Any]] = {200: response(CreditGrantAnswer, "The grant")}
GRANT_CREATED: dict[int | str, dict[str, Any]] = {
    201: response(CreditGrantAnswer, "The grant"),
    200: {"description": "The same idempotencyKey was granted before"},
}
GRANT_LIST: dict[int | str, dict[str, Any]] = {
    200: response(GrantList, "Every grant with what it has left")
}
CREDITS: dict[int | str, dict[str, Any]] = {
    200: response(CreditsAnswer, "Balances, per-grant remaining, burn rate and run-out")
}
