"""Features, customer grants, extra grants and reservations: records and repository ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.entitlements import Grant

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.alerts.ports import AlertsRepository
    from stripemeter_server.service.catalog.ports.definitions import (
        CustomerRecord,
        CustomersRepository,
        KeyStamp,
        MetricsRepository,
        TenantsRepository,
    )
    from stripemeter_server.service.catalog.ports.prices import PricesRepository
    from stripemeter_server.service.corrections.ports.adjustments import (
        AdjustmentsRepository,
        PeriodClosesRepository,
    )
    from stripemeter_server.service.corrections.ports.backfills import BackfillsRepository
    from stripemeter_server.service.credits.ports import CreditGrantsRepository
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.operations.ports import AuditRecord, AuditRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository
    from stripemeter_server.service.ports.events import EventsRepository

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


@dataclass(frozen=True, slots=True)
class GrantView:
    """A feature, the customer's grant of it, the customer's record and the definition of
    the metric the feature counts, read in one statement (ADR 0932, ADR 0939): what an
    access answer needs before its window is known. ``metric`` is ``None`` when the feature
    names no metric or a metric that does not exist."""

    feature: StoredFeature | None
    grant: GrantRecord | None
    customer: CustomerRecord | None
    metric: str | None = None


@dataclass(frozen=True, slots=True)
class FeatureView:
    """A feature, the customer's grant of it and the definition of the metric it counts
    (``None``: it counts none, or that metric no longer exists), read with every other
    feature of the tenant in one statement (ADR 0937)."""

    feature: StoredFeature
    grant: GrantRecord | None
    metric: str | None


@dataclass(frozen=True, slots=True)
class CustomerFeatures:
    """Every feature of the tenant as ``FeatureView``s (by key), and the customer's record
    (``None`` when there is none, or when the tenant has no feature to read it with)."""

    features: list[FeatureView]
    customer: CustomerRecord | None


@dataclass(frozen=True, slots=True)
class BalanceWindow:
    """One metered feature's usage window whose balance an answer needs: ``counter``, read
    the metric's live counter of the window (else the caller folds the ledger itself)."""

    feature: str
    metric: str
    start_us: int
    counter: bool


@dataclass(frozen=True, slots=True)
class WindowBalance:
    """What ``counters.get``, ``grants.extras`` and ``reservations.held_total`` answer for
    a metered grant's window, read in one statement (ADR 0937, ADR 0939): the counter's
    state (``None``: no row yet, or none asked for), the window's extra grants summed and
    the quantity unexpired reservations hold now."""

    counter: CounterState | None
    extras: Decimal
    held: Decimal


class GrantReads(Protocol):
    """What alert evaluation reads of grants inside the ingest transaction: the customer's
    grant and the window's extra grants (its limit), nothing it could write."""

    def get(self, customer_ref: str, feature: str) -> GrantRecord | None: ...

    def extras(self, customer_ref: str, feature: str, window_start_us: int) -> list[ExtraGrant]: ...


class GrantsRepository(GrantReads, Protocol):
    def put(self, grant: Grant, now_us: int) -> bool:
        """Insert or replace; True when the grant is new."""
        ...

    def lock(self, customer_ref: str, feature: str) -> GrantRecord | None:
        """The grant, its row held until commit: every reservation of one (customer,
        feature) queues here, so their balance checks run one after another."""
        ...

    def view(self, customer_ref: str, feature: str) -> GrantView:
        """The feature, the grant and the customer's record in one read (each ``None``
        when absent; no feature: all three); nothing locked."""
        ...

    def lock_view(self, customer_ref: str, feature: str) -> GrantView | None:
        """As ``view`` with the grant's row held as ``lock`` holds it; ``None`` when there
        is no grant or no feature (nothing is locked then)."""
        ...

    def views(self, customer_ref: str) -> CustomerFeatures:
        """Every feature with the customer's grant of it and its metric's definition, and
        the customer's record, in one read (ADR 0937); nothing locked."""
        ...

    def balances(
        self, customer_ref: str, windows: Sequence[BalanceWindow], now_us: int
    ) -> dict[str, WindowBalance]:
        """Each window's balance by feature key, in one read (ADR 0937): exactly what the
        three reads of one window answer in the same transaction."""
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

    def hold(self, reservation: Reservation, entry: AuditRecord) -> bool:
        """Store the reservation and its audit entry (one statement where the store allows,
        ADR 0939); False, and neither stored, when its idempotency key is taken already."""
        ...

    def get(self, reservation_id: str) -> Reservation | None: ...

    def by_idempotency_key(self, idempotency_key: str) -> Reservation | None: ...

    def held_total(self, customer_ref: str, feature: str, now_us: int) -> Decimal:
        """The quantity held by reservations that are neither finished nor expired."""
        ...

    def window_balance(
        self, metric: str, customer_ref: str, feature: str, window_start_us: int, now_us: int
    ) -> WindowBalance:
        """The counter of (``metric``, customer, window), the window's extras summed and
        ``held_total`` at ``now_us``, in one read."""
        ...

    def finish(
        self,
        reservation_id: str,
        status: str,
        now_us: int,
        *,
        committed_quantity: Decimal | None = None,
        event_key: str | None = None,
    ) -> None: ...


class StampedGrantReads(Protocol):
    """The tenant's key stamp read by the statement that reads the grant's view (ADR
    0950): the fast paths compare it before anything else, so the stamp is no statement of
    its own."""

    def view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView]:
        """The stamp and ``GrantsRepository.view``'s answer."""
        ...

    def lock_view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView | None]:
        """The stamp and ``GrantsRepository.lock_view``'s answer (the grant's row held)."""
        ...


class EntitlementsUnitOfWork(Protocol):
    """One transaction as the entitlements use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def billing_reads(self) -> BillingReads: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def backfills(self) -> BackfillsRepository: ...
    @property
    def counters(self) -> CountersRepository: ...
    @property
    def credit_grants(self) -> CreditGrantsRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def events(self) -> EventsRepository: ...
    @property
    def features(self) -> FeaturesRepository: ...
    @property
    def grants(self) -> GrantsRepository: ...
    @property
    def ingest_tallies(self) -> PrunableTallies: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def reservations(self) -> ReservationsRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...


class StampedUnitOfWork(EntitlementsUnitOfWork, Protocol):
    """The unit of work of the entitlement fast paths, whose first read returns the key
    stamp too (ADR 0950)."""

    @property
    def stamped_grants(self) -> StampedGrantReads: ...
