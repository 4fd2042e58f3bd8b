"""What the portal stores: tokens, a tenant's embedding settings and the alert rules a
customer made through the portal (so a token sees and deletes only those)."""

from __future__ import annotations

from dataclasses import dataclass
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
    from stripemeter_server.service.entitlements.ports import (
        FeaturesRepository,
        GrantsRepository,
        ReservationsRepository,
    )
    from stripemeter_server.service.ingest.ports import PrunableTallies
    from stripemeter_server.service.invoicing.ports import (
        InvoiceItemsRepository,
        StripeInvoicesRepository,
        WebhookJobsRepository,
    )
    from stripemeter_server.service.operations.ports import AuditRepository, RateLimitRepository
    from stripemeter_server.service.ports.billing_reads import BillingReads
    from stripemeter_server.service.ports.counters import CountersRepository
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


from stripemeter_server.service.catalog.ports.definitions import KeyStamp


@dataclass(frozen=True, slots=True)
class PortalTokenRecord:
    tenant_id: str
    token_id: str
    customer_ref: str
    metrics: tuple[str, ...] | None  # None: every metric of the customer
    scopes: frozenset[str]
    secret_hash: str  # SHA-256 of the token's secret part, never the secret itself
    minted_by: str  # the API key id that minted it
    created_us: int
    expires_us: int
    revoked_us: int | None


@dataclass(frozen=True, slots=True)
class TokenWithKey:
    """A token with the state of the key that minted it (one read at authentication)."""

    token: PortalTokenRecord
    key_revoked_us: int | None
    key_expires_us: int | None
    key_exists: bool


@dataclass(frozen=True, slots=True)
class TokenState:
    """What a cached portal token is re-checked against in a read's own transaction: the
    token's revocation, its tenant's key stamp (the minting key revoked or rotated, the
    rate limits changed) and the tenant's allowed origins (for CORS)."""

    revoked_us: int | None
    key_stamp: KeyStamp
    origins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortalSettingsRecord:
    allowed_origins: tuple[str, ...]
    frame_ancestors: tuple[str, ...]
    theme: str  # canonical JSON: {"cssVariables": {...}, "logoUrl": ...}
    updated_us: int


class PortalRepository(Protocol):
    def add_token(self, record: PortalTokenRecord) -> None: ...

    def token_with_key(self, token_id: str) -> TokenWithKey | None:
        """Looked up by id across tenants: the token names its tenant."""
        ...

    def tokens(self, customer_ref: str | None, limit: int) -> list[PortalTokenRecord]: ...

    def token_state(self, tenant_id: str, token_id: str) -> TokenState | None:
        """The token's revocation and its tenant's key stamp in one statement, then the
        origins (``None``: no such token in that tenant)."""
        ...

    def revoke_token(self, token_id: str, now_us: int) -> bool: ...

    def revoke_minted_by(self, tenant_id: str, key_id: str, now_us: int) -> list[str]:
        """Revoke every live token the key minted; the ids revoked. The tenant is named,
        as key commands run outside any one tenant (the CLI)."""
        ...

    def settings(self) -> PortalSettingsRecord | None: ...

    def put_settings(self, record: PortalSettingsRecord) -> None: ...

    def origins_of(self, tenant_id: str) -> tuple[str, ...]:
        """The origins ``tenant_id`` allows (read with a token, before the tenant is bound)."""
        ...

    def origin_allowed_anywhere(self, origin: str) -> bool:
        """Whether any tenant allows ``origin`` (a CORS preflight carries no token)."""
        ...

    def add_alert_rule(self, customer_ref: str, rule_id: str, now_us: int) -> None: ...

    def alert_rules(self, customer_ref: str) -> list[str]: ...

    def remove_alert_rule(self, customer_ref: str, rule_id: str) -> bool: ...


class PortalUnitOfWork(Protocol):
    """One transaction as the portal use cases see it (ADR 0026)."""

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
    def features(self) -> FeaturesRepository: ...
    @property
    def grants(self) -> GrantsRepository: ...
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
    def portal(self) -> PortalRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def pushes(self) -> PushesRepository: ...
    @property
    def rate_limits(self) -> RateLimitRepository: ...
    @property
    def rebuild_jobs(self) -> RebuildJobsRepository: ...
    @property
    def reservations(self) -> ReservationsRepository: ...
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
