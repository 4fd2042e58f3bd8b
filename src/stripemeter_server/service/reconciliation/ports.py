"""Reconciliation runs, lines, gate verdicts and the ledger-side facts a run reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.alerts.ports import AlertsRepository
    from stripemeter_server.service.catalog.ports.definitions import (
        CustomersRepository,
        MetricsRepository,
        TenantsRepository,
    )
    from stripemeter_server.service.catalog.ports.prices import PricesRepository
    from stripemeter_server.service.corrections.ports.adjustments import (
        AdjustmentsRepository,
        PeriodClosesRepository,
    )
    from stripemeter_server.service.corrections.ports.backfills import (
        ApprovalsRepository,
        BackfillsRepository,
    )
    from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobsRepository
    from stripemeter_server.service.credits.ports import CreditGrantsRepository
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.invoicing.ports import (
        InvoiceItemRecord,
        InvoiceItemsRepository,
        StripeInvoicesRepository,
        WebhookJobsRepository,
    )
    from stripemeter_server.service.operations.ports import AuditRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository, StoredCounter
    from stripemeter_server.service.ports.events import EventsRepository
    from stripemeter_server.service.stripe_sync.ports.accounts import (
        MappingsRepository,
        StripeAccountsRepository,
        StripeCustomersRepository,
    )
    from stripemeter_server.service.stripe_sync.ports.pushes import PushesRepository
    from stripemeter_server.service.stripe_sync.ports.subscription_items import (
        SubscriptionItemsRepository,
    )


FactKey = tuple[str, int]  # (customer_ref, period_start_us) within one metric


@dataclass(frozen=True, slots=True)
class UnsentPush:
    push_id: str
    status: str  # pending | failed
    error_code: str | None
    value: int  # what the push sends (a delta for a sum meter, the value for a last one)
    pushed_after: int  # the counter's pushed total once it is sent


QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class GateSetting:
    gate: str
    lead_seconds: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    tenant_id: str
    trigger: str
    filters: str
    repair: bool
    status: str
    progress_done: int
    progress_total: int | None
    summary: str | None
    error: str | None
    created_us: int
    started_us: int | None
    finished_us: int | None


@dataclass(frozen=True, slots=True)
class LineRecord:
    line_no: int
    customer_ref: str
    metric: str
    mode: str
    period_start_us: int
    period_end_us: int
    local_value: Decimal | None
    pushed_value: Decimal | None
    stripe_value: Decimal | None
    absolute_drift: Decimal
    relative_drift: Decimal | None
    status: str
    money_at_stake: Decimal | None
    currency: str | None
    action: str | None
    note: str | None
    invoice_id: str | None = None
    expected_amount: Decimal | None = None
    stripe_amount: Decimal | None = None
    status_after: str | None = None


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The invoice gate's verdict on one draft invoice (``reconciliation_invoices``)."""

    invoice_id: str
    customer_ref: str
    state: str  # agreed | held | reported | released
    gate: str
    run_id: str
    drift_lines: int
    money_at_stake: Decimal | None
    currency: str | None
    created_us: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class MetricTotals:
    """One metric's totals in a run (computed in SQL, never by loading the lines)."""

    metric: str
    status: str
    lines: int
    local: Decimal | None
    stripe: Decimal | None
    drift: Decimal | None
    money: Decimal | None


class ReconciliationFacts(Protocol):
    def counters(
        self, metric: str, customers: Sequence[str], min_end_us: int
    ) -> dict[FactKey, StoredCounter]: ...

    def unsent_pushes(self, metric: str, customers: Sequence[str]) -> dict[FactKey, UnsentPush]: ...

    def invoice_items(
        self, metric: str, customers: Sequence[str]
    ) -> dict[FactKey, InvoiceItemRecord]: ...

    def credit_items(
        self, customers: Sequence[str], min_end_us: int
    ) -> list[InvoiceItemRecord]: ...

    def invoice_statuses(self, invoice_ids: Sequence[str]) -> dict[str, str]: ...


class ReconciliationRepository(Protocol):
    @property
    def facts(self) -> ReconciliationFacts: ...

    def gate(self) -> GateSetting | None: ...

    def put_gate(self, setting: GateSetting, now_us: int) -> None: ...

    def create_run(
        self, run_id: str, *, trigger: str, filters: str, repair: bool, now_us: int
    ) -> bool: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def list_runs(self, *, before: tuple[int, str] | None, limit: int) -> list[RunRecord]: ...

    def claim_run(self, run_id: str, now_us: int, lease_us: int) -> RunRecord | None: ...

    def queued_runs(self, limit: int) -> list[tuple[str, str]]: ...

    def progress(self, run_id: str, done: int, total: int | None, lease_until_us: int) -> None: ...

    def finish(
        self, run_id: str, *, status: str, summary: str | None, error: str | None, now_us: int
    ) -> None: ...

    def add_lines(self, run_id: str, lines: Sequence[LineRecord]) -> None: ...

    def delete_lines(self, run_id: str) -> None: ...

    def line_count(self, run_id: str) -> int: ...

    def lines(
        self, run_id: str, *, after: int = 0, limit: int = 500, status: str | None = None
    ) -> list[LineRecord]: ...

    def set_action(
        self,
        run_id: str,
        line_no: int,
        action: str,
        note: str | None,
        status_after: str | None = None,
    ) -> None: ...

    def totals(self, run_id: str) -> list[MetricTotals]: ...

    def unresolved_count(self, run_id: str) -> int: ...

    def customer_count(self, min_end_us: int) -> int: ...

    def customer_page(self, *, after: str | None, limit: int, min_end_us: int) -> list[str]: ...

    def verdict(self, invoice_id: str) -> GateVerdict | None: ...

    def put_verdict(self, verdict: GateVerdict) -> None: ...

    def verdicts(self, *, state: str | None = None, limit: int = 100) -> list[GateVerdict]: ...

    def held_count(self) -> int: ...

    def latest_finished(self) -> list[RunRecord]: ...


class ReconciliationUnitOfWork(Protocol):
    """One transaction as the reconciliation use cases see it (ADR 0026)."""

    actor: str
    request_id: str | None
    tenant_id: str

    @property
    def billing_reads(self) -> BillingReads: ...
    @property
    def features(self) -> FeatureReads: ...
    @property
    def grants(self) -> GrantReads: ...
    @property
    def adjustments(self) -> AdjustmentsRepository: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def approvals(self) -> ApprovalsRepository: ...
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
    def ingest_tallies(self) -> PrunableTallies: ...
    @property
    def invoice_items(self) -> InvoiceItemsRepository: ...
    @property
    def mappings(self) -> MappingsRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def pushes(self) -> PushesRepository: ...
    @property
    def rebuild_jobs(self) -> RebuildJobsRepository: ...
    @property
    def reconciliation(self) -> ReconciliationRepository: ...
    @property
    def stripe_accounts(self) -> StripeAccountsRepository: ...
    @property
    def stripe_customers(self) -> StripeCustomersRepository: ...
    @property
    def stripe_invoices(self) -> StripeInvoicesRepository: ...
    @property
    def subscription_items(self) -> SubscriptionItemsRepository: ...
    @property
    def tenants(self) -> TenantsRepository: ...
    @property
    def webhook_jobs(self) -> WebhookJobsRepository: ...

    def commit(self) -> None: ...
