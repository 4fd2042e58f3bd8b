"""Customer grants of features, and one-off extra grants for the current usage window."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.entitlement_parsing import (
    CODE,
    grant_to_dict,
)
from stripemeter_server.domain.entitlements import FeatureKind
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.entitlements.commands import ExtraGrantRequest, NewGrant
from stripemeter_server.service.entitlements.features import get_feature
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.ports import ExtraGrant, GrantRecord
from stripemeter_server.service.entitlements.usage import usage_window
from stripemeter_server.service.operations import audit


def put_grant(
    uow: UnitOfWork, customer_ref: str, feature_key: str, request: NewGrant, now: datetime
) -> tuple[GrantRecord, bool]:
    """Create or replace the customer's grant of the feature."""
    feature = get_feature(uow, feature_key)
    grant = request.for_kind(feature.kind)
    before = uow.grants.get(customer_ref, feature.key)
    created = uow.grants.put(grant, to_micros(now))
    audit.record(
        uow,
        now,
        "entitlement.put",
        "entitlement",
        f"{customer_ref}/{feature.key}",
        before=grant_to_dict(before.grant) if before else None,
        after=grant_to_dict(grant),
    )
    saved = uow.grants.get(customer_ref, feature.key)
    assert saved is not None
    return saved, created


def get_grant(uow: UnitOfWork, customer_ref: str, feature_key: str) -> GrantRecord:
    found = uow.grants.get(customer_ref, feature_key)
    if found is None:
        raise NotFoundError(
            f"customer {customer_ref!r} has no grant of {feature_key!r}",
            code="entitlement_not_found",
            field="feature",
        )
    return found


def delete_grant(uow: UnitOfWork, customer_ref: str, feature_key: str, now: datetime) -> None:
    found = get_grant(uow, customer_ref, feature_key)
    uow.grants.delete(customer_ref, feature_key)
    audit.record(
        uow,
        now,
        "entitlement.delete",
        "entitlement",
        f"{customer_ref}/{feature_key}",
        before=grant_to_dict(found.grant),
    )


def add_extra(
    uow: UnitOfWork,
    customer_ref: str,
    feature_key: str,
    request: ExtraGrantRequest,
    now: datetime,
) -> tuple[ExtraGrant, bool]:
    """Add ``amount`` to the grant's limit for the usage window containing ``now`` (an
    overage pack). Idempotent by its key: the same key answers the first grant."""
    amount, key, note = request.amount, request.idempotency_key, request.note
    feature = get_feature(uow, feature_key)
    if feature.kind is not FeatureKind.METERED:
        raise ValidationError("extra grants are for metered features", code=CODE, field="feature")
    get_grant(uow, customer_ref, feature_key)
    if key is not None and (existing := uow.grants.extra_by_key(key)) is not None:
        return _same_extra(existing, customer_ref, feature_key, amount), False
    window = usage_window(uow, feature, customer_ref, now)
    extra = ExtraGrant(
        f"xg_{secrets.token_hex(10)}",
        customer_ref,
        feature_key,
        amount,
        to_micros(window.start),
        to_micros(window.end),
        key,
        note,
        to_micros(now),
    )
    if not uow.grants.add_extra(extra):  # the key was taken by a concurrent request
        existing = uow.grants.extra_by_key(key or "")
        assert existing is not None
        return _same_extra(existing, customer_ref, feature_key, amount), False
    audit.record(
        uow,
        now,
        "entitlement.extra_grant",
        "entitlement",
        f"{customer_ref}/{feature_key}",
        after={
            "extraId": extra.extra_id,
            "amount": to_plain_string(amount),
            "windowStartUs": extra.window_start_us,
        },
    )
    return extra, True


def _same_extra(
    existing: ExtraGrant, customer_ref: str, feature_key: str, amount: Any
) -> ExtraGrant:
    if (existing.customer_ref, existing.feature, existing.amount) != (
        customer_ref,
        feature_key,
        amount,
    ):
        raise ConflictError(
            "idempotencyKey was used for another extra grant",
            code="idempotency_key_reused",
            field="idempotencyKey",
        )
    return existing
