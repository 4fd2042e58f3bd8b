"""Ingest outcomes per tenant minute: the record and the repository port (the dashboard's
status counts; duplicates, conflicts and rejections are never stored as events)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.alerts.ports import AlertFiring
    from stripemeter_server.service.catalog.ports.definitions import (
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
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads
    from stripemeter_server.service.ports.counters import IngestCounters
    from stripemeter_server.service.ports.events import IngestEvents


@dataclass(frozen=True, slots=True)
class IngestTally:
    """How many events got each answer; ``late`` counts accepted events that were late."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    late: int = 0

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in TALLY_FIELDS)


TALLY_FIELDS = tuple(f.name for f in fields(IngestTally))


@dataclass(frozen=True, slots=True)
class GroupHead:
    """What an ingest group reads first: the tenant's key stamp (when its requests were
    admitted from the key cache) and the fingerprints the ledger holds for its keys. A store
    may read both with the transaction's ``BEGIN`` in one round trip (ADR 0969)."""

    stamp: KeyStamp | None
    fingerprints: dict[str, str]


class IngestTalliesRepository(Protocol):
    def add(self, minute_us: int, counts: IngestTally, slot: int = 0) -> None:
        """Add ``counts`` to the minute's row (created on first use), in one statement."""
        ...

    def sums(self, since_us: int) -> IngestTally:
        """The totals of the minutes starting at or after ``since_us``."""
        ...


class PrunableTallies(IngestTalliesRepository, Protocol):
    """The tallies as the housekeeping worker sees them: it also deletes old minutes."""

    def prune(self, before_us: int, limit: int) -> int:
        """Delete about ``limit`` of the tenant's oldest rows before ``before_us`` (whole
        minutes: at most ``limit`` plus the slots of the last minute); the number deleted."""
        ...


# Repositories are read-only properties here: a protocol's plain attribute would be
# invariant, and the adapter's concrete repository types must match it structurally.


class TallyPruningUnitOfWork(Protocol):
    """What the housekeeping worker's pruning of old minutes needs."""

    @property
    def ingest_tallies(self) -> PrunableTallies: ...


class IngestUnitOfWork(Protocol):
    """What the ingest pipeline reads and writes (and alert evaluation, which it calls)."""

    tenant_id: str

    @property
    def events(self) -> IngestEvents: ...
    @property
    def counters(self) -> IngestCounters: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...
    @property
    def alerts(self) -> AlertFiring: ...
    @property
    def backfills(self) -> BackfillsRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def ingest_tallies(self) -> IngestTalliesRepository: ...
    @property
    def credit_grants(self) -> CreditGrantsRepository: ...
    @property
    def features(self) -> FeatureReads: ...
    @property
    def grants(self) -> GrantReads: ...
