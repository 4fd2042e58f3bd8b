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
from .usage_results import decimal_or_none, instant_or_none

if TYPE_CHECKING:
    from .async_client import AsyncClient
    from .client import StripeMeterClient

__all__ = ["AsyncEntitlements", "EntitlementCheck", "Entitlements", "Reservation"]


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
        return cls(
            bool(data.get("allowed")),
            bool(data.get("hasAccess")),
            str(data.get("reason")),
            decimal_or_none(data.get("usage")),
            decimal_or_none(data.get("limit")),
            decimal_or_none(data.get("balance")),
            decimal_or_none(data.get("headroom")),
            instant_or_none(data.get("resetsAt")),
            dict(data),
        )


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
        return cls(
            str(data.get("id")),
            str(data.get("status")),
            decimal_or_none(data.get("quantity")),
            instant_or_none(data.get("expiresAt")),
            decimal_or_none(data.get("committedQuantity")),
            dict(data),
        )


def _reservation_path(reservation_id: str, action: str) -> str:
    return f"/v1/entitlements/reservations/{quote(reservation_id, safe='')}/{action}"


def check_op(customer: str, feature: str, quantity: object) -> Op[EntitlementCheck]:
    body = {"customerRef": customer, "feature": feature, "quantity": str(quantity)}
    return Op("POST", "/v1/entitlements/check", EntitlementCheck.from_json, body=encode_json(body))


def reserve_op(
    customer: str, feature: str, quantity: object, ttl_seconds: int, idempotency_key: str | None
) -> Op[Reservation]:
    """The idempotency key is made here, once per call, so a retried request holds once."""
    body = {
        "customerRef": customer,
        "feature": feature,
        "quantity": str(quantity),
        "ttlSeconds": ttl_seconds,
        "idempotencyKey": idempotency_key or f"rsv-{uuid.uuid4().hex}",
    }
    return Op(
        "POST", "/v1/entitlements/reservations", Reservation.from_json, body=encode_json(body)
    )


def commit_op(reservation_id: str, quantity: object | None) -> Op[Reservation]:
    body = {} if quantity is None else {"quantity": str(quantity)}
    return Op(
        "POST",
        _reservation_path(reservation_id, "commit"),
        Reservation.from_json,
        body=encode_json(body),
    )


def release_op(reservation_id: str) -> Op[Reservation]:
    return Op(
        "POST",
        _reservation_path(reservation_id, "release"),
        Reservation.from_json,
        body=encode_json({}),
    )


class CheckCache:
    """``check`` answers kept for ``seconds`` (0: off), per (customer, feature, quantity)."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._answers: dict[tuple[str, str, str], tuple[float, EntitlementCheck]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> EntitlementCheck | None:
        with self._lock:
            hit = self._answers.get(key)
        if hit is None or self._clock() - hit[0] >= self.seconds:
            return None
        return hit[1]

    def put(self, key: tuple[str, str, str], answer: EntitlementCheck) -> None:
        if self.seconds > 0:
            with self._lock:
                self._answers[key] = (self._clock(), answer)


class Entitlements:
    """Entitlement calls of one client (thread-safe; the cache is per client)."""

    def __init__(
        self,
        client: StripeMeterClient,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache = CheckCache(cache_seconds, clock)

    @property
    def cache_seconds(self) -> float:
        return self._cache.seconds

    @cache_seconds.setter
    def cache_seconds(self, seconds: float) -> None:
        self._cache.seconds = seconds

    def check(
        self, customer_ref: object, feature: str, quantity: Decimal | int | str = 1
    ) -> EntitlementCheck:
        """May ``quantity`` more of ``feature`` be used now? Records nothing."""
        key = (self._client._core.customer(customer_ref), feature, str(quantity))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        answer = self._client._call(check_op(*key))
        self._cache.put(key, answer)
        return answer

    def reserve(
        self,
        customer_ref: object,
        feature: str,
        quantity: Decimal | int | str,
        *,
        ttl_seconds: int = 60,
        idempotency_key: str | None = None,
    ) -> Reservation:
        """Hold ``quantity`` (raises ``ConflictError`` past a hard limit)."""
        return self._client._call(
            reserve_op(
                self._client._core.customer(customer_ref),
                feature,
                quantity,
                ttl_seconds,
                idempotency_key,
            )
        )

    def commit(
        self, reservation_id: str, quantity: Decimal | int | str | None = None
    ) -> Reservation:
        """Record what was used (default: all of the reservation) as usage (idempotent)."""
        return self._client._call(commit_op(reservation_id, quantity))

    def release(self, reservation_id: str) -> Reservation:
        """Free the hold (idempotent)."""
        return self._client._call(release_op(reservation_id))


class AsyncEntitlements:
    """The same calls for ``AsyncClient``."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache = CheckCache(cache_seconds, clock)

    @property
    def cache_seconds(self) -> float:
        return self._cache.seconds

    @cache_seconds.setter
    def cache_seconds(self, seconds: float) -> None:
        self._cache.seconds = seconds

    async def check(
        self, customer_ref: object, feature: str, quantity: Decimal | int | str = 1
    ) -> EntitlementCheck:
        key = (self._client._core.customer(customer_ref), feature, str(quantity))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        answer = await self._client._call(check_op(*key))
        self._cache.put(key, answer)
        return answer

    async def reserve(
        self,
        customer_ref: object,
        feature: str,
        quantity: Decimal | int | str,
        *,
        ttl_seconds: int = 60,
        idempotency_key: str | None = None,
    ) -> Reservation:
        return await self._client._call(
            reserve_op(
                self._client._core.customer(customer_ref),
                feature,
                quantity,
                ttl_seconds,
                idempotency_key,
            )
        )

    async def commit(
        self, reservation_id: str, quantity: Decimal | int | str | None = None
    ) -> Reservation:
        return await self._client._call(commit_op(reservation_id, quantity))

    async def release(self, reservation_id: str) -> Reservation:
        return await self._client._call(release_op(reservation_id))
