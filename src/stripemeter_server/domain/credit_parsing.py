"""Credit grants from their API body, through the bounded parsers (ADR 0006)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from stripemeter_server.domain.bounded import (
    check_identifier,
    parse_decimal_field,
    parse_instant,
)
from stripemeter_server.domain.credits import CreditCategory, CreditGrant, unit_denomination
from stripemeter_server.domain.decimals import ZERO, to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.money import normalize_currency, round_amount
from stripemeter_server.domain.timestamps import format_timestamp

CODE: Final = "invalid_credit_grant"
MAX_PRIORITY: Final = 1_000_000
MAX_APPLIES_TO: Final = 100
_FIELDS: Final = frozenset(
    {
        "amount",
        "currency",
        "unit",
        "category",
        "priority",
        "effectiveAt",
        "expiresAt",
        "appliesTo",
        "idempotencyKey",
    }
)


def _invalid(message: str, field: str) -> ValidationError:
    return ValidationError(message, code=CODE, field=field)


def _denomination(data: Mapping[str, Any]) -> str:
    currency, unit = data.get("currency"), data.get("unit")
    if (currency is None) == (unit is None):
        raise _invalid("give exactly one of currency and unit", "currency")
    if unit is not None:
        return unit_denomination(check_identifier(unit, "unit", code=CODE))
    try:
        return normalize_currency(currency if isinstance(currency, str) else "")
    except ValidationError as exc:
        raise _invalid(exc.message, "currency") from None


def _amount(raw: object, denomination: str) -> Any:
    amount = parse_decimal_field(raw, "amount", code=CODE)
    if amount <= ZERO:
        raise _invalid("amount must be positive", "amount")
    if not denomination.startswith("unit:") and round_amount(amount, denomination) != amount:
        raise _invalid(f"amount has more decimal places than {denomination}'s minor unit", "amount")
    return amount


def _priority(raw: object) -> int:
    if raw is None:
        return 100
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_PRIORITY:
        raise _invalid(f"priority must be an integer 0..{MAX_PRIORITY}", "priority")
    return raw


def _applies_to(raw: object) -> frozenset[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_APPLIES_TO:
        raise _invalid(f"appliesTo must be a list of 1..{MAX_APPLIES_TO} metric codes", "appliesTo")
    return frozenset(check_identifier(m, "appliesTo", code=CODE) for m in raw)


def credit_grant_from_dict(
    grant_id: str, customer_ref: str, data: Mapping[str, Any], now: datetime
) -> CreditGrant:
    for name in data:
        if name not in _FIELDS:
            shown = str(name)[:100].encode("unicode_escape").decode("ascii")
            raise _invalid(f"unknown field {shown!r}", shown)
    customer_ref = check_identifier(customer_ref, "customerRef", code=CODE)
    denomination = _denomination(data)
    try:
        category = CreditCategory(data.get("category") or "paid")
    except (TypeError, ValueError):
        raise _invalid("category must be paid or promotional", "category") from None
    effective = (
        now
        if data.get("effectiveAt") is None
        else parse_instant(data["effectiveAt"], "effectiveAt")
    )
    expires = (
        None if data.get("expiresAt") is None else parse_instant(data["expiresAt"], "expiresAt")
    )
    if expires is not None and expires <= effective:
        raise _invalid("expiresAt must be after effectiveAt", "expiresAt")
    return CreditGrant(
        grant_id,
        customer_ref,
        _amount(data.get("amount"), denomination),
        denomination,
        category,
        _priority(data.get("priority")),
        effective,
        expires,
        _applies_to(data.get("appliesTo")),
        idempotency_key=check_identifier(data.get("idempotencyKey"), "idempotencyKey", code=CODE),
        created_at=now,
    )


def credit_grant_to_dict(grant: CreditGrant) -> dict[str, Any]:
    return {
        "id": grant.grant_id,
        "customerRef": grant.customer_ref,
        "amount": to_plain_string(grant.amount),
        "currency": grant.currency,
        "unit": grant.unit,
        "category": grant.category.value,
        "priority": grant.priority,
        "effectiveAt": format_timestamp(grant.effective_at),
        "expiresAt": None if grant.expires_at is None else format_timestamp(grant.expires_at),
        "appliesTo": None if grant.applies_to is None else sorted(grant.applies_to),
        "voidedAt": None if grant.voided_at is None else format_timestamp(grant.voided_at),
        "idempotencyKey": grant.idempotency_key,
    }
