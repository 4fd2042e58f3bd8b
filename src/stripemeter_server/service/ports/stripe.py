"""The Stripe port: what the use cases need from Stripe, as a protocol with plain data.

The adapter (``stripe/gateway.py``) implements it with the official library; tests run the
use cases against the project's emulator through that adapter. Nothing here imports
``stripe``: library types never leak past the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StripeCredentials:
    """What reaching one Stripe account takes (``api_base`` points at the emulator)."""

    secret_key: str
    webhook_secret: str | None = None
    api_base: str | None = None

    def __repr__(self) -> str:  # never print a secret
        return f"StripeCredentials(secret_key=<hidden>, api_base={self.api_base!r})"

    @property
    def livemode(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))


@dataclass(frozen=True, slots=True)
class MeterInfo:
    meter_id: str
    event_name: str
    formula: str
    status: str
    customer_key: str
    value_key: str


@dataclass(frozen=True, slots=True)
class MeterEventOut:
    event_name: str
    stripe_customer_id: str
    value: int
    identifier: str
    timestamp_s: int


@dataclass(frozen=True, slots=True)
class SubscriptionItemInfo:
    item_id: str
    period_start_s: int | None


@dataclass(frozen=True, slots=True)
class PreviewLine:
    """One line of Stripe's invoice preview, as far as a comparison needs it."""

    price: str | None
    description: str | None
    quantity: Decimal | None
    amount: int  # minor units
    currency: str
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class InvoicePreview:
    """Stripe's own preview of a customer's next invoice (``invoices.create_preview``)."""

    currency: str
    subtotal: int
    total: int
    period_start_s: int | None
    period_end_s: int | None
    subscription: str | None
    lines: tuple[PreviewLine, ...]


@dataclass(frozen=True, slots=True)
class CreditGrantOut:
    """A Stripe billing credit grant to create (monetary, for metered prices)."""

    stripe_customer_id: str
    currency: str
    amount: int  # minor units
    name: str
    metadata: dict[str, str]
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class StripeCreditGrant:
    grant_id: str
    currency: str
    amount: int  # minor units
    voided: bool
    metadata: dict[str, str]


class StripePort(Protocol):
    def list_meters(self) -> list[MeterInfo]: ...

    def create_meter(self, event_name: str, display_name: str, formula: str) -> MeterInfo: ...

    def meter_total(self, meter_id: str, stripe_customer_id: str, start_s: int,
                    end_s: int) -> Decimal: ...

    def send_meter_event(self, event: MeterEventOut) -> bool: ...

    def open_meter_event_session(self) -> tuple[str, str]: ...

    def stream_meter_events(self, token: str, events: Sequence[MeterEventOut]) -> None: ...

    def find_subscription_item(self, stripe_customer_id: str,
                               price: str) -> SubscriptionItemInfo | None: ...

    def set_usage_record(self, subscription_item: str, quantity: int, timestamp_s: int,
                         idempotency_key: str) -> None: ...

    def find_customer_by_metadata(self, key: str, value: str) -> str | None: ...

    def get_customer(self, customer_id: str) -> dict[str, Any]: ...

    def get_invoice(self, invoice_id: str) -> dict[str, Any]: ...

    def create_invoice_item(self, params: dict[str, Any],
                            idempotency_key: str) -> dict[str, Any]: ...

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]: ...

    def create_credit_grant(self, grant: CreditGrantOut) -> StripeCreditGrant:
        """Stripe credit that Stripe applies to the customer's metered price lines when an
        invoice finalizes (``billing.credit_grants``), once per idempotency key."""
        ...

    def credit_grants(self, stripe_customer_id: str) -> list[StripeCreditGrant]: ...

    def void_credit_grant(self, grant_id: str, idempotency_key: str) -> None: ...

    def credit_balance(self, stripe_customer_id: str, currency: str) -> int:
        """The available balance of the customer's usable grants (the credit balance
        summary), in minor units."""
        ...

    def preview_invoice(self, stripe_customer_id: str) -> InvoicePreview | None:
        """Stripe's preview of the customer's next invoice (from among their
        subscriptions); ``None`` when Stripe says there is none to preview."""
        ...

    def update_invoice(self, invoice_id: str, params: dict[str, Any],
                       idempotency_key: str) -> dict[str, Any]: ...

    def update_invoice_item(self, item_id: str, params: dict[str, Any],
                            idempotency_key: str) -> dict[str, Any]: ...

    def usage_record_total(self, subscription_item: str, at_s: int) -> Decimal | None:
        """The legacy usage-record summary total of the item's period containing ``at_s``."""
        ...

    def verify_webhook(self, payload: bytes, signature_header: str | None,
                       secrets: Sequence[str]) -> dict[str, Any]:
        """The event, once its signature verifies with one of ``secrets`` (the tenant's
        current ones, passed on every call: a port never caches a secret); raises
        ``WebhookSignatureError`` otherwise, ``WebhookEventError`` for a body it cannot
        take."""
        ...

    def raw(self, method: str, path: str, *, stripe_version: str | None = None,
            idempotency_key: str | None = None, **params: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class StripeFactory(Protocol):
    """Builds the port for one account (the API and workers get one per process)."""

    def __call__(self, credentials: StripeCredentials) -> StripePort: ...


class Cipher(Protocol):
    """Secrets at rest (``storage/secret_box.py``)."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, token: str) -> str: ...
