"""JSON shapes of features, grants, access answers and reservations, rendered through the
Structs the OpenAPI document declares (``api/schemas/entitlements.py``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from stripemeter_server.api.schemas.entitlements import (
    AccessAnswer,
    CheckAnswer,
    ExtraGrantAnswer,
    FeatureAnswer,
    GrantAnswer,
    ReservationAnswer,
)
from stripemeter_server.api.serialize import dec, instant, ts
from stripemeter_server.api.wire import UNSET, render
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.entitlement_parsing import BILLING_PERIOD
from stripemeter_server.domain.entitlements import Access, Feature, FeatureKind
from stripemeter_server.service.entitlements.ports import ExtraGrant, GrantRecord, Reservation


def feature_answer(feature: Feature) -> FeatureAnswer:
    answer = FeatureAnswer(key=feature.key, type=feature.kind.value, name=feature.name)
    if feature.kind is FeatureKind.STATIC:
        answer.config = json.loads(feature.config or "null")
    if feature.kind is FeatureKind.METERED:
        answer.metric = feature.metric
        answer.filter = {p: json.loads(v) for p, v in feature.filter} or None
        answer.reset = feature.reset.value if feature.reset else BILLING_PERIOD
    return answer


def feature_json(feature: Feature) -> dict[str, Any]:
    return render(feature_answer(feature))


def access_answer(access: Access, customer_ref: str) -> AccessAnswer:
    return AccessAnswer(**_access_fields(access, customer_ref))


def _access_fields(access: Access, customer_ref: str) -> dict[str, Any]:
    return {
        "customer_ref": customer_ref,
        "feature": access.feature.key,
        "type": access.feature.kind.value,
        "has_access": access.has_access,
        "reason": access.reason.value,
        "usage": dec(access.usage),
        "reserved": dec(access.reserved),
        "limit": dec(access.limit),
        "balance": dec(access.balance),
        "headroom": dec(access.headroom),
        "resets_at": ts(access.resets_at),
        "enforcement": access.enforcement.value if access.enforcement else None,
        "config": None if access.config is None else json.loads(access.config),
    }


def access_json(access: Access, customer_ref: str) -> dict[str, Any]:
    return render(access_answer(access, customer_ref))


def check_json(
    allowed: bool, quantity: Decimal | None, access: Access, customer_ref: str
) -> dict[str, Any]:
    fields = _access_fields(access, customer_ref)
    return render(CheckAnswer(allowed=allowed, quantity=dec(quantity), **fields))


def grant_json(record: GrantRecord) -> dict[str, Any]:
    grant = record.grant
    answer = GrantAnswer(
        customer_ref=grant.customer_ref,
        feature=grant.feature,
        enabled=grant.enabled,
        effective_at=ts(grant.effective_at),
        expires_at=ts(grant.expires_at),
        created_at=instant(record.created_us),
        updated_at=instant(record.updated_us),
    )
    if grant.config is not None:
        answer.config = json.loads(grant.config)
    if grant.limit is not None:
        answer.limit = to_plain_string(grant.limit)
        answer.enforcement = grant.enforcement.value
        answer.overage = to_plain_string(grant.overage)
        answer.stop_at_zero_credit = grant.stop_at_zero_credit
    return render(answer)


def extra_json(extra: ExtraGrant) -> dict[str, Any]:
    return render(
        ExtraGrantAnswer(
            id=extra.extra_id,
            customer_ref=extra.customer_ref,
            feature=extra.feature,
            amount=to_plain_string(extra.amount),
            window_start=instant(extra.window_start_us),
            window_end=instant(extra.window_end_us),
            idempotency_key=extra.idempotency_key,
            note=extra.note,
            created_at=instant(extra.created_us),
        )
    )


def reservation_json(
    reservation: Reservation, now_us: int, entitlement: Access | None = None
) -> dict[str, Any]:
    """A reservation; the access after it when the answer is to a hold."""
    return render(
        ReservationAnswer(
            id=reservation.reservation_id,
            customer_ref=reservation.customer_ref,
            feature=reservation.feature,
            quantity=to_plain_string(reservation.quantity),
            status=reservation.state_at(now_us),
            idempotency_key=reservation.idempotency_key,
            created_at=instant(reservation.created_us),
            expires_at=instant(reservation.expires_us),
            finished_at=ts(reservation.finished_us),
            committed_quantity=dec(reservation.committed_quantity),
            event_key=reservation.event_key,
            entitlement=UNSET
            if entitlement is None
            else access_answer(entitlement, reservation.customer_ref),
        )
    )
