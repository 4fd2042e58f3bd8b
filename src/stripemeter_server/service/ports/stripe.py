"""The Stripe port: what the use cases need from Stripe, as a protocol with typed records.

The adapter (``stripe/gateway.py``) implements it with the official library; integration
tests run the use cases against the project's emulator through that adapter, unit tests
against the in-memory ``FakeStripePort`` (``tests/support/fake_stripe.py``). Nothing here
imports ``stripe``: library types never leak past the adapter, and every library error
reaches a use case as one of the port's errors below (ADR 0020).

Each method answers one question a use case asks, with a record holding only the fields
read; values Stripe spells as a closed set of strings are enums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from stripemeter_server.domain.errors import (
    StripeCallError,
    StripePermanentError,
    StripeRateLimitedError,
    StripeRetryableError,
)
from stripemeter_server.domain.stripe_mapping import MeterFormula

# The port's error tree (defined in ``domain/errors.py`` so the API maps it to problems):
# ``StripeCallError`` <- ``StripeRetryableError`` <- ``StripeRateLimitedError``, and
# ``StripePermanentError``; ``StripeSessionExpiredError`` below is the one retryable case a
# caller acts on (it renews the v2 session).
__all__ = [
    "Cipher",
    "InvoiceItem",
    "InvoiceItemParams",
    "InvoiceLine",
    "InvoiceStatus",
    "MeterAggregation",
    "MeterEventOut",
    "MeterEventSession",
    "MeterInfo",
    "MeterStatus",
    "SentMeterEvent",
    "StripeCallError",
    "StripeCredentials",
    "StripeCustomer",
    "StripeFactory",
    "StripeInvoice",
    "StripePermanentError",
    "StripePort",
    "StripeRateLimitedError",
    "StripeRetryableError",
    "StripeSessionExpiredError",
    "SubscriptionItemInfo",
]

# An invoice item's create or update request, as Stripe documents it. It stays a mapping:
# the invoice flow records the exact request with its intent and sends it verbatim on every
# retry (exactly-once rests on the identical request and key), so it is built once, in
# ``domain/invoice_items.py``, and never re-shaped here.
InvoiceItemParams = Mapping[str, Any]


class StripeSessionExpiredError(StripeRetryableError):
    """The v2 meter-event session expired mid-stream: renew it and send again."""

    code = "stripe_session_expired"


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


class MeterStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class MeterAggregation(StrEnum):
    """A Stripe meter's formula (Stripe has one more than the pusher uses: ``count``)."""

    SUM = "sum"
    COUNT = "count"
    LAST = "last"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


class SentMeterEvent(StrEnum):
    """What became of one meter event: taken now, or Stripe already had its identifier."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class MeterInfo:
    meter_id: str
    event_name: str
    formula: MeterAggregation
    status: MeterStatus
    customer_key: str
    value_key: str


class MeterEventOut(NamedTuple):
    """One meter event to send. A named tuple: a v2 send builds one per pushed row, and a
    frozen dataclass's ``__init__`` cost several times a tuple's (ADR 0983)."""

    event_name: str
    stripe_customer_id: str
    value: int
    identifier: str
    timestamp_s: int
    # The request's idempotency key; None: the identifier. A push Stripe accepted and then
    # reported as failed is resent under a new key (the old one would replay the 200).
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class MeterErrorSample:
    """One meter event Stripe refused after answering 200 (its identifier, when given)."""

    code: str
    message: str
    identifier: str | None


@dataclass(frozen=True, slots=True)
class MeterErrorReport:
    """An asynchronous meter error report (``v1.billing.meter.error_report_triggered`` or
    ``v1.billing.meter.no_meter_found``): ``error_count`` events refused in a window, a
    sample of them named."""

    event_id: str
    event_type: str
    created: str  # RFC 3339, Stripe's clock: the next poll's lower bound
    meter_id: str | None
    error_count: int
    samples: tuple[MeterErrorSample, ...]


@dataclass(frozen=True, slots=True)
class MeterEventSession:
    """A v2 meter-event session: its bearer token (never logged) and expiry."""

    token: str = field(repr=False)
    expires_at_s: int


@dataclass(frozen=True, slots=True)
class SubscriptionItemInfo:
    item_id: str
    period_start_s: int | None


@dataclass(frozen=True, slots=True)
class StripeCustomer:
    customer_id: str
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StripeInvoice:
    invoice_id: str
    status: InvoiceStatus
    auto_advance: bool


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice line: the item it shows (if any), its amount in minor units, its
    quantity (``quantity_decimal`` when Stripe gives one) and its metadata."""

    line_id: str
    invoice_item_id: str | None
    amount: int | None
    quantity: Decimal
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InvoiceItem:
    item_id: str
    amount: int | None


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

    def create_meter(
        self, event_name: str, display_name: str, formula: MeterFormula
    ) -> MeterInfo: ...

    def meter_total(
        self, meter_id: str, stripe_customer_id: str, start_s: int, end_s: int
    ) -> Decimal: ...

    def send_meter_event(self, event: MeterEventOut) -> SentMeterEvent: ...

    def open_meter_event_session(self) -> MeterEventSession: ...

    def meter_error_reports(self, created_since: str | None) -> list[MeterErrorReport]: ...

    def stream_meter_events(self, token: str, events: Sequence[MeterEventOut]) -> None:
        """Up to 100 events; ``StripeSessionExpiredError`` when the session expired."""
        ...

    def find_subscription_item(
        self, stripe_customer_id: str, price: str
    ) -> SubscriptionItemInfo | None: ...

    def set_usage_record(
        self, subscription_item: str, quantity: int, timestamp_s: int, idempotency_key: str
    ) -> None: ...

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

    def usage_record_total(self, subscription_item: str, at_s: int) -> Decimal | None:
        """The legacy usage-record summary total of the item's period containing ``at_s``."""
        ...

    def find_customer_by_metadata(self, key: str, value: str) -> str | None: ...

    def get_customer(self, customer_id: str) -> StripeCustomer: ...

    def get_invoice(self, invoice_id: str) -> StripeInvoice: ...

    def set_invoice_auto_advance(
        self, invoice_id: str, auto_advance: bool, idempotency_key: str
    ) -> None:
        """Hold (False) or release (True) a draft: the reconciliation gate's one lever."""
        ...

    def invoice_lines(self, invoice_id: str) -> list[InvoiceLine]: ...

    def create_invoice_item(
        self, params: InvoiceItemParams, idempotency_key: str
    ) -> InvoiceItem: ...

    def update_invoice_item(
        self, item_id: str, params: InvoiceItemParams, idempotency_key: str
    ) -> InvoiceItem: ...

    def verify_webhook(
        self, payload: bytes, signature_header: str | None, secrets: Sequence[str]
    ) -> dict[str, Any]:
        """The event, once its signature verifies with one of ``secrets`` (the tenant's
        current ones, passed on every call: a port never caches a secret); raises
        ``WebhookSignatureError`` otherwise, ``WebhookEventError`` for a body it cannot
        take. The event stays the verified JSON object: the webhook use case parses the
        fields it reads and names each in a 400 when one is wrong."""
        ...

    def close(self) -> None: ...


class StripeFactory(Protocol):
    """Builds the port for one account (the API and workers get one per process)."""

    def __call__(self, credentials: StripeCredentials) -> StripePort: ...


class Cipher(Protocol):
    """Secrets at rest (``storage/secret_box.py``)."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, token: str) -> str: ...
