"""``client.entitlements``: check access, and reserve quantity against a hard limit before
doing the work, then commit what was used or release it.

``check`` may answer from a short local cache (``cache_seconds``, off by default): a customer's
API that checks on every call saves a round trip, at the price of answers up to that old.
Reservations are never cached: they are the atomic path.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._core import Op, encode_json
from .models import _dec, _dt

if TYPE_CHECKING:
    from .client import StripeMeterClient

__all__ = ["EntitlementCheck", "Entitlements", "Reservation"]


@dataclass(frozen=True, slots=True)
class EntitlementCheck:
    """The answer of ``check``: may ``quantity`` more be used now, and the balance."""

    allowed: bool
    has_access: bool
    reason: str
    usage: Decimal | None
    limit: Decimal | None
    balance: Decimal | None
    headroom: Decimal | None
    resets_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntitlementCheck:
        return cls(bool(data.get("allowed")), bool(data.get("hasAccess")),
                   str(data.get("reason")), _dec(data.get("usage")), _dec(data.get("limit")),
                   _dec(data.get("balance")), _dec(data.get("headroom")),
                   _dt(data.get("resetsAt")), dict(data))


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    status: str
    quantity: Decimal | None
    expires_at: datetime | None
    committed_quantity: Decimal | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reservation:
        return cls(str(data.get("id")), str(data.get("status")), _dec(data.get("quantity")),
                   _dt(data.get("expiresAt")), _dec(data.get("committedQuantity")), dict(data))


def _reservation_path(reservation_id: str, action: str) -> str:
    return f"/v1/entitlements/reservations/{quote(reservation_id, safe='')}/{action}"


class Entitlements:
    """Entitlement calls of one client (thread-safe; the cache is per client)."""

    def __init__(self, client: StripeMeterClient, *, cache_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str, str], tuple[float, EntitlementCheck]] = {}
        self._lock = threading.Lock()

    def check(self, customer_ref: object, feature: str,
              quantity: Decimal | int | str = 1) -> EntitlementCheck:
        """May ``quantity`` more of ``feature`` be used now? Records nothing."""
        customer = self._client._core.customer(customer_ref)
        key = (customer, feature, str(quantity))
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        body = {"customerRef": customer, "feature": feature, "quantity": str(quantity)}
        answer = self._client._call(Op("POST", "/v1/entitlements/check",
                                       EntitlementCheck.from_json, body=encode_json(body)))
        if self.cache_seconds > 0:
            with self._lock:
                self._cache[key] = (now, answer)
        return answer

    def reserve(self, customer_ref: object, feature: str, quantity: Decimal | int | str, *,
                ttl_seconds: int = 60, idempotency_key: str | None = None) -> Reservation:
        """Hold ``quantity`` (raises ``ConflictError`` past a hard limit). The idempotency key
        is made once here, so a retried request holds once."""
        body = {"customerRef": self._client._core.customer(customer_ref), "feature": feature,
                "quantity": str(quantity), "ttlSeconds": ttl_seconds,
                "idempotencyKey": idempotency_key or f"rsv-{uuid.uuid4().hex}"}
        return self._client._call(Op("POST", "/v1/entitlements/reservations",
                                     Reservation.from_json, body=encode_json(body)))

    def commit(self, reservation_id: str,
               quantity: Decimal | int | str | None = None) -> Reservation:
        """Record what was used (default: all of the reservation) as usage (idempotent)."""
        body = {} if quantity is None else {"quantity": str(quantity)}
        return self._client._call(Op("POST", _reservation_path(reservation_id, "commit"),
                                     Reservation.from_json, body=encode_json(body)))

    def release(self, reservation_id: str) -> Reservation:
        """Free the hold (idempotent)."""
        return self._client._call(Op("POST", _reservation_path(reservation_id, "release"),
                                     Reservation.from_json, body=encode_json({})))
