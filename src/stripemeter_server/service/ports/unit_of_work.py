"""The unit of work and the store as the use cases see them: protocols, not the adapter.

A unit of work is one transaction and the repositories bound to it; only it commits. The
SQL adapter (``storage/unit_of_work.py``) implements these structurally, and so does the
in-memory fake the tests use. Each feature declares the narrow part its use cases need in
its own ports (``IngestUnitOfWork`` in ``service/ingest/ports.py``, ADR 0026);
``UnitOfWork`` is the whole, which the runner hands out and every narrow one accepts.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from stripemeter_server.service.alerts.ports import AlertsRepository
from stripemeter_server.service.catalog.ports.definitions import (
    ApiKeysRepository,
)
from stripemeter_server.service.corrections.ports.backfills import (
    ApprovalsRepository,
)
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobsRepository
from stripemeter_server.service.dashboard.ports import DashboardReads, DashboardSessionsRepository
from stripemeter_server.service.entitlements.ports import (
    FeaturesRepository,
    GrantsRepository,
    ReservationsRepository,
    StampedGrantReads,
)
from stripemeter_server.service.ingest.ports import GroupHead, IngestUnitOfWork, PrunableTallies
from stripemeter_server.service.invoicing.ports import (
    InvoiceItemsRepository,
    StripeInvoicesRepository,
    WebhookJobsRepository,
)
from stripemeter_server.service.operations.ports import (
    AuditRepository,
    GaugesRepository,
    HeartbeatRepository,
    RateLimitRepository,
)
from stripemeter_server.service.portal.ports import PortalRepository
from stripemeter_server.service.ports.billing_reads import BillingReads
from stripemeter_server.service.ports.counters import CountersRepository
from stripemeter_server.service.ports.current_reads import CurrentReads, LoopCurrentReads
from stripemeter_server.service.ports.events import EventsRepository
from stripemeter_server.service.reconciliation.ports import ReconciliationRepository
from stripemeter_server.service.stripe_sync.ports.accounts import (
    MappingsRepository,
    StripeAccountsRepository,
    StripeCustomersRepository,
)
from stripemeter_server.service.stripe_sync.ports.pushes import PushesRepository
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    SubscriptionItemsRepository,
)

# Repositories are read-only properties here: a protocol's plain attribute would be
# invariant, and the adapter's concrete repository types must match it structurally.


class UnitOfWork(IngestUnitOfWork, Protocol):
    """One transaction of one tenant, every repository bound to it; only it commits."""

    actor: str  # who the audit log names: an API key id, ``cli`` or ``system``
    request_id: str | None

    @property
    def billing_reads(self) -> BillingReads: ...
    @property
    def events(self) -> EventsRepository: ...
    @property
    def counters(self) -> CountersRepository: ...
    @property
    def current_reads(self) -> CurrentReads: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def api_keys(self) -> ApiKeysRepository: ...
    @property
    def stripe_accounts(self) -> StripeAccountsRepository: ...
    @property
    def mappings(self) -> MappingsRepository: ...
    @property
    def stripe_customers(self) -> StripeCustomersRepository: ...
    @property
    def reconciliation(self) -> ReconciliationRepository: ...
    @property
    def webhook_jobs(self) -> WebhookJobsRepository: ...
    @property
    def invoice_items(self) -> InvoiceItemsRepository: ...
    @property
    def stripe_invoices(self) -> StripeInvoicesRepository: ...
    @property
    def pushes(self) -> PushesRepository: ...
    @property
    def subscription_items(self) -> SubscriptionItemsRepository: ...
    @property
    def approvals(self) -> ApprovalsRepository: ...
    @property
    def rebuild_jobs(self) -> RebuildJobsRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def rate_limits(self) -> RateLimitRepository: ...
    @property
    def heartbeats(self) -> HeartbeatRepository: ...
    @property
    def gauges(self) -> GaugesRepository: ...
    @property
    def dashboard(self) -> DashboardReads: ...
    @property
    def portal(self) -> PortalRepository: ...
    @property
    def dashboard_sessions(self) -> DashboardSessionsRepository: ...
    @property
    def ingest_tallies(self) -> PrunableTallies: ...
    @property
    def features(self) -> FeaturesRepository: ...
    @property
    def grants(self) -> GrantsRepository: ...
    @property
    def stamped_grants(self) -> StampedGrantReads: ...
    @property
    def reservations(self) -> ReservationsRepository: ...

    def group_head(self, keys: list[str], *, stamp: bool) -> GroupHead:
        """The first reads of an ingest group, before any other statement of the
        transaction: the key stamp (if ``stamp``) and the ledger's fingerprints of ``keys``
        (ADR 0969)."""
        ...

    def commit(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Store(Protocol):
    """The storage port's entry: one per process, shared by every request."""

    url: str
    actor: str  # the audit log's default "who" (``cli`` for operator commands)

    @property
    def dialect(self) -> str: ...

    def unit_of_work(
        self,
        tenant_id: str = "",
        *,
        read_only: bool = False,
        actor: str | None = None,
        shared_snapshot: bool = True,
    ) -> UnitOfWork:
        """``shared_snapshot=False``: a read-only use case whose statements each read what
        is committed when they run, as they do under PostgreSQL's READ COMMITTED anyway;
        the store may then run them without a transaction (no BEGIN and ROLLBACK round
        trips, ADR 0883). Writes are never run that way."""
        ...

    def inline_read(self, tenant_id: str, *, actor: str | None = None) -> UnitOfWork | None:
        """A read-only unit of work, as ``shared_snapshot=False`` gives, that never waits
        for a lock: one it would wait for raises ``RetryableConflict`` at once (ADR 0961),
        so it can run on an event loop; ``None`` when the store has none (PostgreSQL)."""
        ...

    def loop_reads(self) -> LoopCurrentReads | None:
        """The current-usage read awaited on the event loop (PostgreSQL, ADR 0971);
        ``None`` when the store has none (SQLite reads inline instead)."""
        ...

    def migrate(self) -> None: ...

    def prepare_partitions(self, now_us: int) -> list[str]: ...

    def readiness(self) -> dict[str, bool]: ...

    def start_upkeep(self) -> None:
        """Start the store's own background work for a long-running server (SQLite: WAL
        checkpoints out of the request path, ADR 0930); ``stop_upkeep`` or ``close`` ends it.
        A store never started works the same, only with its upkeep left to its writers."""
        ...

    def stop_upkeep(self) -> None: ...

    def close(self) -> None: ...


__all__ = ["IngestUnitOfWork", "Store", "UnitOfWork"]  # the narrow ingest one and the whole
