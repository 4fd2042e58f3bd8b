"""The unit of work: one transaction and the repositories bound to it; the ``Store``.

Only the unit of work commits. Database errors are translated at its boundary
(``database_errors.py``) into the service's own errors.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from stripemeter_server.service.ingest.ports import GroupHead
from stripemeter_server.storage import migrate
from stripemeter_server.storage import transaction_bounds as bounds
from stripemeter_server.storage.adapters import StoreAdapter, adapter_for
from stripemeter_server.storage.alerts import AlertsRepository
from stripemeter_server.storage.billing_views import BillingReadsRepository
from stripemeter_server.storage.catalog.definitions import (
    ApiKeysRepository,
    CustomersRepository,
    MetricsRepository,
    TenantsRepository,
)
from stripemeter_server.storage.catalog.prices import PricesRepository
from stripemeter_server.storage.catalog.stamp import CatalogCache, CatalogView
from stripemeter_server.storage.corrections.adjustments import (
    AdjustmentsRepository,
    PeriodClosesRepository,
)
from stripemeter_server.storage.corrections.backfills import (
    ApprovalsRepository,
    BackfillsRepository,
)
from stripemeter_server.storage.corrections.rebuild_jobs import RebuildJobsRepository
from stripemeter_server.storage.credits import CreditGrantsRepository
from stripemeter_server.storage.dashboard import DashboardRepository
from stripemeter_server.storage.dashboard_sessions import DashboardSessionsRepository
from stripemeter_server.storage.database_errors import translate_errors, translated
from stripemeter_server.storage.engine import create_store_engine, masked_url
from stripemeter_server.storage.entitlements import (
    FeaturesRepository,
    GrantsRepository,
    ReservationsRepository,
    StampedGrantsRepository,
)
from stripemeter_server.storage.event_loop_reads import EventLoopReads
from stripemeter_server.storage.ingest_tallies import IngestTalliesRepository
from stripemeter_server.storage.invoicing import (
    InvoiceItemsRepository,
    StripeInvoicesRepository,
    WebhookJobsRepository,
)
from stripemeter_server.storage.ledger.counters import CountersRepository
from stripemeter_server.storage.ledger.events import EventsRepository
from stripemeter_server.storage.operations import (
    AuditRepository,
    GaugesRepository,
    HeartbeatRepository,
    RateLimitRepository,
)
from stripemeter_server.storage.portal import PortalRepository
from stripemeter_server.storage.postgres.group_head import DriverTransaction
from stripemeter_server.storage.reconciliation.runs import ReconciliationRepository
from stripemeter_server.storage.sqlite.engine import sqlite_checkpointer
from stripemeter_server.storage.stripe_sync.accounts import (
    MappingsRepository,
    StripeAccountsRepository,
    StripeCustomersRepository,
)
from stripemeter_server.storage.stripe_sync.pushes import PushesRepository
from stripemeter_server.storage.stripe_sync.subscription_items import SubscriptionItemsRepository
from stripemeter_server.storage.usage_loop_reads import PostgresLoopReads
from stripemeter_server.storage.usage_views import CurrentReadsRepository


class UnitOfWork:
    def __init__(
        self,
        engine: Engine,
        adapter: StoreAdapter,
        tenant_id: str,
        *,
        read_only: bool = False,
        actor: str = "system",
        statements_alone: bool = False,
        catalog: CatalogCache | None = None,
    ) -> None:
        self._engine = engine
        self._catalog_cache = catalog or CatalogCache()
        self._adapter = adapter
        self._read_only = read_only
        # PostgreSQL only, read-only only (``Store.unit_of_work``, ADR 0883)
        self._statements_alone = statements_alone
        self.tenant_id = tenant_id
        self.actor = actor  # who the audit log names: an API key id, ``cli`` or ``system``
        self.request_id: str | None = None
        self._conn: Connection | None = None
        self._committed = False
        self._driver = DriverTransaction(adapter.dialect.name)  # ADR 0969

    def __enter__(self) -> UnitOfWork:
        self._conn = bounds.begin(
            self._engine, read_only=self._read_only, statements_alone=self._statements_alone
        )
        return self

    @cached_property
    def _catalog(self) -> CatalogView:
        """This transaction's catalog stamp, shared by the repositories that read or write
        the catalog (ADR 0947)."""
        return CatalogView(self._catalog_cache, self.tenant_id)

    # The repositories, each built on first use: a use case touches only a few of them.
    @cached_property
    def events(self) -> EventsRepository:
        return self._adapter.events(self.connection, self.tenant_id)

    @cached_property
    def counters(self) -> CountersRepository:
        return self._adapter.counters(self.connection, self.tenant_id)

    @cached_property
    def metrics(self) -> MetricsRepository:
        return MetricsRepository(
            self.connection, self._adapter.dialect, self.tenant_id, self._catalog
        )

    @cached_property
    def customers(self) -> CustomersRepository:
        return self._adapter.customers(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def adjustments(self) -> AdjustmentsRepository:
        return AdjustmentsRepository(self.connection, self.tenant_id)

    @cached_property
    def period_closes(self) -> PeriodClosesRepository:
        return PeriodClosesRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def tenants(self) -> TenantsRepository:
        return TenantsRepository(self.connection)

    @cached_property
    def api_keys(self) -> ApiKeysRepository:
        return ApiKeysRepository(self.connection, self._catalog)

    @cached_property
    def prices(self) -> PricesRepository:
        return PricesRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def alerts(self) -> AlertsRepository:
        return AlertsRepository(
            self.connection, self._adapter.dialect, self.tenant_id, self._catalog
        )

    @cached_property
    def stripe_accounts(self) -> StripeAccountsRepository:
        return StripeAccountsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def mappings(self) -> MappingsRepository:
        return MappingsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def stripe_customers(self) -> StripeCustomersRepository:
        return StripeCustomersRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def reconciliation(self) -> ReconciliationRepository:
        return ReconciliationRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def webhook_jobs(self) -> WebhookJobsRepository:
        return WebhookJobsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def invoice_items(self) -> InvoiceItemsRepository:
        return InvoiceItemsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def stripe_invoices(self) -> StripeInvoicesRepository:
        return StripeInvoicesRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def pushes(self) -> PushesRepository:
        return PushesRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def subscription_items(self) -> SubscriptionItemsRepository:
        return SubscriptionItemsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def backfills(self) -> BackfillsRepository:
        return BackfillsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def approvals(self) -> ApprovalsRepository:
        return ApprovalsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def rebuild_jobs(self) -> RebuildJobsRepository:
        return RebuildJobsRepository(self.connection, self.tenant_id)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.connection, self.tenant_id)

    @cached_property
    def rate_limits(self) -> RateLimitRepository:
        return RateLimitRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def heartbeats(self) -> HeartbeatRepository:
        return HeartbeatRepository(self.connection, self._adapter.dialect)

    @cached_property
    def gauges(self) -> GaugesRepository:
        return GaugesRepository(self.connection)

    @cached_property
    def dashboard(self) -> DashboardRepository:
        return DashboardRepository(self.connection, self.tenant_id)

    @cached_property
    def ingest_tallies(self) -> IngestTalliesRepository:
        dialect, defer = self._adapter.dialect, self._driver.defer
        return IngestTalliesRepository(self.connection, dialect, self.tenant_id, defer)

    @cached_property
    def portal(self) -> PortalRepository:
        return PortalRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def dashboard_sessions(self) -> DashboardSessionsRepository:
        return DashboardSessionsRepository(self.connection)

    @cached_property
    def features(self) -> FeaturesRepository:
        return FeaturesRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def grants(self) -> GrantsRepository:
        return GrantsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def stamped_grants(self) -> StampedGrantsRepository:
        return StampedGrantsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def reservations(self) -> ReservationsRepository:
        return ReservationsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def credit_grants(self) -> CreditGrantsRepository:
        return CreditGrantsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def current_reads(self) -> CurrentReadsRepository:
        return CurrentReadsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @cached_property
    def billing_reads(self) -> BillingReadsRepository:
        return BillingReadsRepository(self.connection, self._adapter.dialect, self.tenant_id)

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    def group_head(self, keys: list[str], *, stamp: bool) -> GroupHead:
        """The stamp and the ledger check; on PostgreSQL with ``BEGIN``, in one round trip."""
        tenant = self.tenant_id
        head = self._driver.head(self.connection, self._catalog, tenant, keys, stamp=stamp)
        found = None if head or not stamp else self.api_keys.stamp(tenant)
        return head or GroupHead(found, self.events.fingerprints(keys))

    def commit(self) -> None:
        bounds.commit(self.connection, self._driver)
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        failed, read_only = exc_type is not None, self._read_only
        bounds.end(
            conn, self._driver, read_only=read_only, committed=self._committed, failed=failed
        )
        if exc is not None:
            # Translated at the boundary: a deadlock is retried, an outage a 503, never a 500.
            error = translated(exc)
            if error is not None:
                raise error from exc


class Store:
    """The storage port's entry: one per process, shared by every request."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 10,
        actor: str = "system",
    ) -> None:
        self.url = url
        self.actor = actor  # the audit log's default "who" (``cli`` for operator commands)
        self.engine = create_store_engine(
            url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size
        )
        self.adapter = adapter_for(self.engine.dialect.name)  # once, for every unit of work
        self.sql_dialect = self.adapter.dialect
        # the connections of the reads run on the event loop (ADR 0961, ADR 0971)
        self._loop = EventLoopReads(self.engine, sqlite_synchronous)
        self.loop_engine = self._loop.engine  # SQLite
        self._checkpointer = sqlite_checkpointer(self.engine)  # started by start_upkeep
        self._catalog = CatalogCache()  # each tenant's metrics and alert rules (ADR 0947)

    def __repr__(self) -> str:  # a Store in a log line or a traceback shows no password
        return f"Store({masked_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        return self.sql_dialect.name

    def unit_of_work(
        self,
        tenant_id: str = "",
        *,
        read_only: bool = False,
        actor: str | None = None,
        shared_snapshot: bool = True,
    ) -> UnitOfWork:
        return UnitOfWork(
            self.engine,
            self.adapter,
            tenant_id,
            read_only=read_only,
            actor=actor or self.actor,
            statements_alone=read_only and not shared_snapshot and self.dialect == "postgresql",
            catalog=self._catalog,
        )

    def inline_read(self, tenant_id: str, *, actor: str | None = None) -> UnitOfWork | None:
        """A read-only unit of work that never waits for a lock (SQLite, ADR 0961: a lock
        it meets raises ``RetryableConflict`` at once), or ``None`` where there is none."""
        return self._loop.inline_read(self.adapter, tenant_id, actor or self.actor, self._catalog)

    def loop_reads(self) -> PostgresLoopReads | None:
        """Current usage awaited on the event loop (PostgreSQL, ADR 0971), else ``None``."""
        return self._loop.postgres

    def migrate(self) -> None:
        with translate_errors():
            migrate.upgrade(self.engine)

    def prepare_partitions(self, now_us: int) -> list[str]:
        """Create the ledger partitions due by ``now_us`` (none on SQLite); their names."""
        with translate_errors(), self.engine.begin() as conn:
            return self.adapter.prepare_partitions(conn, now_us)

    def readiness(self) -> dict[str, bool]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return {"database": True, "migrations": migrate.is_up_to_date(self.engine)}
        except sa_exc.DBAPIError:
            return {"database": False, "migrations": False}

    def start_upkeep(self) -> None:
        # SQLite: WAL checkpoints on the store's own thread, out of commits (ADR 0930).
        if self._checkpointer is not None:
            self._checkpointer.start()

    def stop_upkeep(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def close(self) -> None:
        self.stop_upkeep()
        self.engine.dispose()
        if self.loop_engine is not None:
            self.loop_engine.dispose()
