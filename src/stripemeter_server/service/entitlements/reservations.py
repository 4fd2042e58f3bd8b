"""Reservations: hold quantity against a metered grant's balance, then commit or release.

A reservation takes the grant's row lock (``GrantsRepository.lock``) before it reads the
balance, so concurrent reservations of one (customer, feature) check and insert one after
another, on every node: they never over-commit a hard limit. A commit records one usage
event through the ingest pipeline, keyed by the reservation (so it counts once however
often the commit is retried); a release frees the hold; expiry frees it by itself (a held
reservation past ``expires_us`` is no longer summed).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.decimals import ZERO, to_plain_string
from stripemeter_server.domain.entitlement_parsing import CODE
from stripemeter_server.domain.entitlements import (
    Access,
    Feature,
    FeatureKind,
    MeteredState,
    evaluate,
)
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.timestamps import format_timestamp, to_micros
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.entitlements.access import access_for, access_with_state
from stripemeter_server.service.entitlements.commands import CommitRequest, ReserveRequest
from stripemeter_server.service.entitlements.features import get_feature, stored_feature
from stripemeter_server.service.entitlements.ports import (
    COMMITTED,
    HELD,
    RELEASED,
    GrantRecord,
    GrantView,
    Reservation,
    StampedUnitOfWork,
)
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.ingest.outcome import ACCEPTED, DUPLICATE
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.operations import audit


@dataclass(frozen=True, slots=True)
class Reserved:
    reservation: Reservation
    access: Access | None  # the balance after the hold (None for a replayed request)
    created: bool


def stamped_reserve(
    uow: StampedUnitOfWork, request: ReserveRequest, now: datetime
) -> tuple[KeyStamp, Callable[[], Reserved]]:
    """``reserve`` whose first read (the grant's locked view) returns the tenant's key stamp
    too (ADR 0950), and the rest of it, for the caller to run once it has judged the stamp."""
    stamp, view = uow.stamped_grants.lock_view(request.customer_ref, request.feature)
    return stamp, lambda: reserve(uow, request, now, locked=lambda: view)


def reserve(
    uow: UnitOfWork,
    request: ReserveRequest,
    now: datetime,
    *,
    locked: Callable[[], GrantView | None] | None = None,
) -> Reserved:
    """Hold ``quantity`` of a metered feature for ``ttl_seconds``, or refuse with 409.

    A request whose idempotency key was used before answers with that reservation, whatever
    the balance is now. The key is looked up only when the request would be refused or its
    insert meets the key (ADR 0883): a fresh request — nearly every one — reads it no more,
    and the answer to every request is the one a lookup first would give. ``locked``: the
    grant's locked view, read already (``stamped_reserve``)."""
    customer_ref, feature_key, quantity = request.customer_ref, request.feature, request.quantity
    ttl, key = request.ttl_seconds, request.idempotency_key
    wanted = (customer_ref, feature_key, quantity)
    try:
        read = locked or (lambda: uow.grants.lock_view(customer_ref, feature_key))
        feature, record, state = _judged(uow, read(), customer_ref, feature_key, quantity, now)
    except (ValidationError, NotFoundError, ConflictError):
        if (existing := uow.reservations.by_idempotency_key(key)) is not None:
            return Reserved(_replayed(existing, wanted), None, False)
        raise
    reservation = Reservation(
        f"rsv_{secrets.token_hex(12)}",
        customer_ref,
        feature_key,
        quantity,
        HELD,
        key,
        to_micros(now),
        to_micros(now + timedelta(seconds=ttl)),
    )
    entry = audit.entry(
        uow,
        now,
        "reservation.create",
        "reservation",
        reservation.reservation_id,
        after=_audit_state(reservation),
    )
    if not uow.reservations.hold(reservation, entry):  # the key was taken by another hold
        taken = uow.reservations.by_idempotency_key(key)
        assert taken is not None
        return Reserved(_replayed(taken, wanted), None, False)
    return Reserved(reservation, _after_hold(uow, feature, record, state, quantity, now), True)


def _judged(
    uow: UnitOfWork,
    view: GrantView | None,
    customer_ref: str,
    feature_key: str,
    quantity: Decimal,
    now: datetime,
) -> tuple[Feature, GrantRecord, MeteredState | None]:
    """The feature, its grant (locked: ``view``, one read) and the state the balance was
    judged on, or the refusal: not metered, no grant, or not enough left."""
    if view is None or view.grant is None:  # no grant (or feature): the refusal, in order
        feature = _metered(uow, feature_key)
        record = _locked_grant(uow, customer_ref, feature_key)
    else:
        feature = _metered_of(stored_feature(view.feature, feature_key))
        record = view.grant
    access, state = access_with_state(uow, feature, record.grant, now, view)
    if not access.allows(quantity):
        raise ConflictError(
            f"{to_plain_string(quantity)} exceeds what {customer_ref!r} may still use of "
            f"{feature_key!r} ({access.reason.value}; headroom "
            f"{to_plain_string(access.headroom or ZERO)})",
            code="entitlement_exceeded",
            field="quantity",
        )
    return feature, record, state


def _after_hold(
    uow: UnitOfWork,
    feature: Feature,
    record: GrantRecord,
    state: MeteredState | None,
    quantity: Decimal,
    now: datetime,
) -> Access:
    """The balance once the hold is in: the state read under the grant's lock (no other
    hold of this grant can come in between) with this hold added — no second read."""
    if state is None:
        return access_for(uow, feature, record.grant, now)
    return evaluate(feature, record.grant, now, replace(state, reserved=state.reserved + quantity))


def _replayed(existing: Reservation, wanted: tuple[str, str, Any]) -> Reservation:
    if (existing.customer_ref, existing.feature, existing.quantity) != wanted:
        raise ConflictError(
            "idempotencyKey was used for another reservation",
            code="idempotency_key_reused",
            field="idempotencyKey",
        )
    return existing


def _metered(uow: UnitOfWork, feature_key: str) -> Feature:
    return _metered_of(get_feature(uow, feature_key))


def _metered_of(feature: Feature) -> Feature:
    if feature.kind is not FeatureKind.METERED:
        raise ValidationError(f"feature {feature.key!r} is not metered", code=CODE, field="feature")
    return feature


def _locked_grant(uow: UnitOfWork, customer_ref: str, feature_key: str) -> GrantRecord:
    record = uow.grants.lock(customer_ref, feature_key)
    if record is None:
        raise ConflictError(
            f"customer {customer_ref!r} has no grant of {feature_key!r}",
            code="entitlement_exceeded",
            field="feature",
        )
    return record


def get_reservation(uow: UnitOfWork, reservation_id: str) -> Reservation:
    found = uow.reservations.get(reservation_id)
    if found is None:
        raise NotFoundError(
            f"reservation {reservation_id!r} does not exist",
            code="reservation_not_found",
            field="id",
        )
    return found


def _held(uow: UnitOfWork, reservation_id: str) -> Reservation:
    """The reservation, read again under its grant's lock (so a commit and a release of one
    reservation never both win)."""
    found = get_reservation(uow, reservation_id)
    uow.grants.lock(found.customer_ref, found.feature)
    return get_reservation(uow, reservation_id)


def commit(
    uow: UnitOfWork,
    reservation_id: str,
    request: CommitRequest,
    now: datetime,
    limits: EventLimits,
) -> Reservation:
    """Record the used quantity (default: all of it, at most all of it) as a usage event."""
    found = _held(uow, reservation_id)
    quantity = found.quantity if request.quantity is None else request.quantity.get()
    state = found.state_at(to_micros(now))
    if state == COMMITTED:
        if quantity != found.committed_quantity and request.quantity is not None:
            raise ConflictError(
                "the reservation was committed with another quantity",
                code="reservation_committed",
                field="quantity",
            )
        return found
    if state != HELD:
        raise ConflictError(f"the reservation is {state}", code=f"reservation_{state}", field="id")
    if quantity > found.quantity:
        raise ValidationError(
            "quantity must not exceed the reserved quantity", code=CODE, field="quantity"
        )
    event_key = f"reservation:{found.reservation_id}"
    if quantity > ZERO:
        _record_usage(uow, _metered(uow, found.feature), found, quantity, event_key, now, limits)
    uow.reservations.finish(
        found.reservation_id,
        COMMITTED,
        to_micros(now),
        committed_quantity=quantity,
        event_key=event_key,
    )
    audit.record(
        uow,
        now,
        "reservation.commit",
        "reservation",
        found.reservation_id,
        before=_audit_state(found),
        after={"status": COMMITTED, "committedQuantity": to_plain_string(quantity)},
    )
    return get_reservation(uow, reservation_id)


def _record_usage(
    uow: UnitOfWork,
    feature: Feature,
    found: Reservation,
    quantity: Any,
    event_key: str,
    now: datetime,
    limits: EventLimits,
) -> None:
    event: dict[str, Any] = {
        "metric": feature.metric,
        "customerRef": found.customer_ref,
        "quantity": to_plain_string(quantity),
        "ts": format_timestamp(now),
        "idempotencyKey": event_key,
    }
    meta: dict[str, Any] = {}
    for path, value in feature.filter:  # the event must count for the feature it reserved
        if path == "resourceId":
            event["resourceId"] = json.loads(value)
        else:
            _place(meta, path.removeprefix("meta.").split("."), json.loads(value))
    if meta:
        event["meta"] = meta
    outcome = ingest_batch(uow, [event], now=now, limits=limits, actor=uow.actor)
    result = outcome.results[0]
    if result.status not in (ACCEPTED, DUPLICATE):
        raise ConflictError(
            f"the usage event was refused: {result.error_message}",
            code=result.error_code or "usage_refused",
            field="id",
        )


def _place(meta: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set ``meta[a][b]... = value``; a path that crosses a value set already is left out
    (the ingest pipeline then refuses nothing, the filter simply does not match)."""
    node = meta
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return
        node = child
    node.setdefault(parts[-1], value)


def release(uow: UnitOfWork, reservation_id: str, now: datetime) -> Reservation:
    """Free the hold (releasing twice, or an expired one, is fine; a committed one is not)."""
    found = _held(uow, reservation_id)
    if found.status == RELEASED:
        return found
    if found.status == COMMITTED:
        raise ConflictError(
            "the reservation is committed", code="reservation_committed", field="id"
        )
    uow.reservations.finish(found.reservation_id, RELEASED, to_micros(now))
    audit.record(
        uow,
        now,
        "reservation.release",
        "reservation",
        found.reservation_id,
        before=_audit_state(found),
        after={"status": RELEASED},
    )
    return get_reservation(uow, reservation_id)


def _audit_state(reservation: Reservation) -> dict[str, Any]:
    return {
        "customerRef": reservation.customer_ref,
        "feature": reservation.feature,
        "quantity": to_plain_string(reservation.quantity),
        "status": reservation.status,
        "expiresUs": reservation.expires_us,
    }
