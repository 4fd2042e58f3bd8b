"""Features, customer grants, extra grants and reservations: records and repository ports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from stripemeter_server.domain.entitlements import Grant

HELD, COMMITTED, RELEASED = "held", "committed", "released"


@dataclass(frozen=True, slots=True)
class StoredFeature:
    key: str
    kind: str
    definition: str  # the feature's API JSON (parsed back by the domain)
    created_us: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class GrantRecord:
    grant: Grant
    created_us: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class ExtraGrant:
    """A one-off addition to a grant's limit for one usage window (an overage pack)."""

    extra_id: str
    customer_ref: str
    feature: str
    amount: Decimal
    window_start_us: int
    window_end_us: int
    idempotency_key: str | None
    note: str | None
    created_us: int


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation_id: str
    customer_ref: str
    feature: str
    quantity: Decimal
    status: str  # held, committed or released; a held one past expires_us is expired
    idempotency_key: str
    created_us: int
    expires_us: int
    finished_us: int | None = None
    committed_quantity: Decimal | None = None
    event_key: str | None = None

    def state_at(self, now_us: int) -> str:
        """``expired`` for a held reservation whose time has run out (it holds nothing)."""
        return "expired" if self.status == HELD and now_us >= self.expires_us else self.status


class FeatureReads(Protocol):
    """What alert evaluation reads of features inside the ingest transaction."""

    def get(self, key: str) -> StoredFeature | None: ...


class FeaturesRepository(FeatureReads, Protocol):
    def put(self, key: str, kind: str, definition: str, now_us: int) -> bool:
        """Insert or replace; True when the feature is new."""
        ...

    def list(self) -> list[StoredFeature]: ...

    def delete(self, key: str) -> bool: ...


class GrantReads(Protocol):
    """What alert evaluation reads of grants inside the ingest transaction: the customer's
    grant and the window's extra grants (its limit), nothing it could write."""

    def get(self, customer_ref: str, feature: str) -> GrantRecord | None: ...

    def extras(self, customer_ref: str, feature: str, window_start_us: int) -> list[ExtraGrant]:
        ...


class GrantsRepository(GrantReads, Protocol):
    def put(self, grant: Grant, now_us: int) -> bool:
        """Insert or replace; True when the grant is new."""
        ...

    def lock(self, customer_ref: str, feature: str) -> GrantRecord | None:
        """The grant, its row held until commit: every reservation of one (customer,
        feature) queues here, so their balance checks run one after another."""
        ...

    def for_customer(self, customer_ref: str) -> list[GrantRecord]: ...

    def delete(self, customer_ref: str, feature: str) -> bool: ...

    def add_extra(self, extra: ExtraGrant) -> bool:
        """Store the extra grant; False when its idempotency key is taken already."""
        ...

    def extra_by_key(self, idempotency_key: str) -> ExtraGrant | None: ...


class ReservationsRepository(Protocol):
    def add(self, reservation: Reservation) -> bool:
        """Store the reservation; False when its idempotency key is taken already."""
        ...

    def get(self, reservation_id: str) -> Reservation | None: ...

    def by_idempotency_key(self, idempotency_key: str) -> Reservation | None: ...

    def held_total(self, customer_ref: str, feature: str, now_us: int) -> Decimal:
        """The quantity held by reservations that are neither finished nor expired."""
        ...

    def finish(self, reservation_id: str, status: str, now_us: int, *,
               committed_quantity: Decimal | None = None, event_key: str | None = None) -> None:
        ...
