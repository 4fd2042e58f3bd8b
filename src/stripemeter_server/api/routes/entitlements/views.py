"""JSON shapes of features, grants, access answers and reservations."""

from __future__ import annotations

import json
from typing import Any

from stripemeter_server.api.serialize import dec, ts
from stripemeter_server.domain.entitlement_parsing import grant_to_dict
from stripemeter_server.domain.entitlements import Access
from stripemeter_server.service.entitlements.ports import ExtraGrant, GrantRecord, Reservation


def access_json(access: Access, customer_ref: str) -> dict[str, Any]:
    return {
        "customerRef": customer_ref,
        "feature": access.feature.key,
        "type": access.feature.kind.value,
        "hasAccess": access.has_access,
        "reason": access.reason.value,
        "usage": dec(access.usage),
        "reserved": dec(access.reserved),
        "limit": dec(access.limit),
        "balance": dec(access.balance),
        "headroom": dec(access.headroom),
        "resetsAt": ts(access.resets_at),
        "enforcement": access.enforcement.value if access.enforcement else None,
        "config": None if access.config is None else json.loads(access.config),
    }


def grant_json(record: GrantRecord) -> dict[str, Any]:
    return {
        **grant_to_dict(record.grant),
        "createdAt": ts(record.created_us),
        "updatedAt": ts(record.updated_us),
    }


def extra_json(extra: ExtraGrant) -> dict[str, Any]:
    return {
        "id": extra.extra_id,
        "customerRef": extra.customer_ref,
        "feature": extra.feature,
        "amount": dec(extra.amount),
        "windowStart": ts(extra.window_start_us),
        "windowEnd": ts(extra.window_end_us),
        "idempotencyKey": extra.idempotency_key,
        "note": extra.note,
        "createdAt": ts(extra.created_us),
    }


def reservation_json(reservation: Reservation, now_us: int) -> dict[str, Any]:
    return {
        "id": reservation.reservation_id,
        "customerRef": reservation.customer_ref,
        "feature": reservation.feature,
        "quantity": dec(reservation.quantity),
        "status": reservation.state_at(now_us),
        "idempotencyKey": reservation.idempotency_key,
        "createdAt": ts(reservation.created_us),
        "expiresAt": ts(reservation.expires_us),
        "finishedAt": ts(reservation.finished_us),
        "committedQuantity": dec(reservation.committed_quantity),
        "eventKey": reservation.event_key,
    }
