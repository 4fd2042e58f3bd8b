"""What every use case needs: the store, a clock, the limits in force, and Stripe access."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stripemeter_server.domain.errors import ConflictError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.ports.stripe import (
    Cipher,
    StripeCredentials,
    StripeFactory,
    StripePort,
)
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.stripe_sync.accounts import (
    AccountPolicy,
    credentials_for,
    webhook_secrets,
)
from stripemeter_server.service.stripe_sync.ports.unit_of_work import StripeSyncUnitOfWork


@dataclass(frozen=True)
class StripeAccess:
    """How use cases reach a tenant's Stripe account: the cipher that opens stored secrets,
    the environment's single-tenant account, the factory of ports (the adapter), and the
    operator's rules for stored accounts (API hosts, webhook secret grace)."""

    cipher: Cipher | None = None
    environment: StripeCredentials | None = None
    factory: StripeFactory | None = None
    policy: AccountPolicy = field(default_factory=AccountPolicy)

    def credentials(self, uow: StripeSyncUnitOfWork) -> StripeCredentials | None:
        return credentials_for(uow, self.cipher, self.environment)

    def webhook_secrets(self, uow: StripeSyncUnitOfWork, now: datetime) -> list[str]:
        return webhook_secrets(uow, self.cipher, self.environment, now)

    def port(self, credentials: StripeCredentials) -> StripePort:
        if self.factory is None:
            raise ConflictError(
                "Stripe is not reachable from this process", code="stripe_not_configured"
            )
        return self.factory(credentials)

    def port_for(self, uow: StripeSyncUnitOfWork) -> StripePort:
        """The tenant's port, or 409 ``stripe_not_configured``."""
        credentials = self.credentials(uow)
        if credentials is None:
            raise ConflictError(
                "no Stripe account is configured for this tenant (PUT /v1/stripe/account)",
                code="stripe_not_configured",
            )
        return self.port(credentials)


@dataclass(frozen=True)
class ServiceContext:
    store: Store
    clock: Clock
    limits: EventLimits = field(default_factory=EventLimits)
    stripe: StripeAccess = field(default_factory=StripeAccess)
