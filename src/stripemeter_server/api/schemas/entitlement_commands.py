"""Entitlement request bodies into the commands of ``service/entitlements/commands.py``.

The declared routes and their fast paths (ADR 0860) call these same functions, with the
same bounded parsers (ADR 0006) the use cases used to call, in the same order, so every
refusal keeps its code, message and field, and which one wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stripemeter_server.domain.bounded import check_identifier, check_text, parse_decimal_field
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.entitlement_parsing import (
    CODE,
    feature_from_dict,
    grant_from_dict,
    parse_quantity,
    reject_unknown,
)
from stripemeter_server.domain.entitlements import Feature, FeatureKind, Grant
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.service.entitlements.commands import (
    CheckRequest,
    CommitRequest,
    ExtraGrantRequest,
    NewGrant,
    ReserveRequest,
)

MAX_TTL_SECONDS: Final = 86_400
DEFAULT_TTL_SECONDS: Final = 60
_CHECK_FIELDS: Final = frozenset({"customerRef", "feature", "quantity"})
_RESERVE_FIELDS: Final = frozenset(
    {"customerRef", "feature", "quantity", "ttlSeconds", "idempotencyKey"}
)
_COMMIT_FIELDS: Final = frozenset({"quantity"})
_EXTRA_FIELDS: Final = frozenset({"amount", "idempotencyKey", "note"})


def feature_definition(key: str, body: Mapping[str, Any]) -> Feature:
    """``PUT /v1/features/{key}`` (``tenantId`` already taken out): the feature itself."""
    return feature_from_dict(key, body)


def check_request(body: Mapping[str, Any]) -> CheckRequest:
    """``POST /v1/entitlements/check`` (``tenantId`` already taken out)."""
    reject_unknown(body, _CHECK_FIELDS)
    customer_ref = check_identifier(body.get("customerRef"), "customerRef", code=CODE)
    feature = check_identifier(body.get("feature"), "feature", code=CODE)
    return CheckRequest(customer_ref, feature, parse_quantity(body.get("quantity", "1")))


def reserve_request(body: Mapping[str, Any]) -> ReserveRequest:
    """``POST /v1/entitlements/reservations`` (``tenantId`` already taken out)."""
    reject_unknown(body, _RESERVE_FIELDS)
    customer_ref = check_identifier(body.get("customerRef"), "customerRef", code=CODE)
    feature = check_identifier(body.get("feature"), "feature", code=CODE)
    quantity = parse_quantity(body.get("quantity"))
    if quantity <= ZERO:
        raise ValidationError("quantity must be positive", code=CODE, field="quantity")
    ttl = _ttl(body.get("ttlSeconds"))
    key = check_identifier(body.get("idempotencyKey"), "idempotencyKey", code=CODE)
    return ReserveRequest(customer_ref, feature, quantity, ttl, key)


def _ttl(raw: object) -> int:
    if raw is None:
        return DEFAULT_TTL_SECONDS
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_TTL_SECONDS:
        raise ValidationError(
            f"ttlSeconds must be an integer 1..{MAX_TTL_SECONDS}", code=CODE, field="ttlSeconds"
        )
    return raw


def commit_request(body: Mapping[str, Any]) -> CommitRequest:
    """``POST /v1/entitlements/reservations/{id}/commit``: an unknown key is refused now, a
    bad quantity only once the reservation is found (as before)."""
    reject_unknown(body, _COMMIT_FIELDS)
    raw = body.get("quantity")
    return CommitRequest(None if raw is None else Parsed.of(lambda: parse_quantity(raw)))


def extra_grant_request(body: Mapping[str, Any]) -> ExtraGrantRequest:
    """``POST …/entitlements/{feature}/extra-grants`` (``tenantId`` already taken out)."""
    reject_unknown(body, _EXTRA_FIELDS)
    amount = parse_decimal_field(body.get("amount"), "amount", code=CODE)
    if amount <= ZERO:
        raise ValidationError("amount must be positive", code=CODE, field="amount")
    key = body.get("idempotencyKey")
    key = None if key is None else check_identifier(key, "idempotencyKey", code=CODE)
    note = check_text(body.get("note"), "note", max_length=1024, code=CODE)
    return ExtraGrantRequest(amount, key, note)


def new_grant(customer_ref: str, feature_key: str, body: Mapping[str, Any]) -> NewGrant:
    """``PUT /v1/customers/{ref}/entitlements/{feature}`` (``tenantId`` already taken out),
    parsed for every kind the stored feature may have; refusals wait for the feature."""
    return NewGrant(
        {kind: _grant_of(customer_ref, feature_key, kind, body) for kind in FeatureKind}
    )


def _grant_of(
    customer_ref: str, feature_key: str, kind: FeatureKind, body: Mapping[str, Any]
) -> Parsed[Grant]:
    return Parsed.of(lambda: grant_from_dict(customer_ref, feature_key, kind, body))
