"""An in-memory Stripe behind the port, for unit tests of the use cases (milliseconds each).

``FakeStripePort`` implements ``service.ports.stripe.StripePort`` with plain dicts: meters and
their events (deduplicated by identifier, like Stripe), customers and their metadata,
subscription items with legacy usage records, draft invoices and their items (idempotency
keys replay the first answer), and v2 meter-event sessions. It answers only what the port
promises; whether the port's promises match Stripe is proved by the emulator-backed
integration tests of the adapter, which stay.

Faults are scripted per method: ``fail("send_meter_event", StripeRetryableError(...))``
makes the next call raise that port error (the adapter's translation of every library
error into these is tested in ``tests/unit/stripe/test_error_translation.py``).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from stripemeter_server.domain.errors import WebhookSignatureError
from stripemeter_server.domain.stripe_mapping import MeterFormula
from stripemeter_server.service.ports.stripe import (
    CreditGrantOut,
    InvoiceItem,
    InvoiceItemParams,
    InvoiceLine,
    InvoicePreview,
    InvoiceStatus,
    MeterAggregation,
    MeterErrorReport,
    MeterEventOut,
    MeterEventSession,
    MeterInfo,
    MeterStatus,
    SentMeterEvent,
    StripeCallError,
    StripeCredentials,
    StripeCreditGrant,
    StripeCustomer,
    StripeInvoice,
    StripePermanentError,
    StripePort,
    StripeSessionExpiredError,
    SubscriptionItemInfo,
)

SESSION_SECONDS = 15 * 60


def missing(kind: str, ident: str) -> StripePermanentError:
    """Stripe's 404 for an unknown id, as the adapter translates it."""
    return StripePermanentError(
        f"Stripe: No such {kind}: '{ident}'", stripe_code="resource_missing", http_status=404
    )


@dataclass
class FakeSubscriptionItem:
    customer: str
    price: str
    period_start_s: int
    period_end_s: int
    usage: dict[int, int] = field(default_factory=dict)  # timestamp → quantity (action=set)


@dataclass
class FakeInvoice:
    customer: str
    status: InvoiceStatus = InvoiceStatus.DRAFT
    auto_advance: bool = True
    items: list[str] = field(default_factory=list)


@dataclass
class FakeStripePort:
    """One Stripe account in memory. ``now_s`` is the account's clock (sessions expire)."""

    now_s: int = 1_768_435_200
    calls: list[str] = field(default_factory=list)
    meters: dict[str, MeterInfo] = field(default_factory=dict)
    meter_events: dict[str, MeterEventOut] = field(default_factory=dict)
    customers: dict[str, StripeCustomer] = field(default_factory=dict)
    subscription_items: dict[str, FakeSubscriptionItem] = field(default_factory=dict)
    invoices: dict[str, FakeInvoice] = field(default_factory=dict)
    invoice_items: dict[str, InvoiceItem] = field(default_factory=dict)
    item_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)  # token → expires_at_s
    credit_grants_made: dict[str, StripeCreditGrant] = field(default_factory=dict)
    _grant_replies: dict[str, str] = field(default_factory=dict)  # idempotency key → grant
    webhook_signature: str = "fake-signature"
    _faults: dict[str, deque[StripeCallError]] = field(default_factory=lambda: defaultdict(deque))
    _replies: dict[str, InvoiceItem] = field(default_factory=dict)  # idempotency key → answer
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0

    # --- scripting ----------------------------------------------------------------------

    def fail(self, method: str, error: StripeCallError, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` raise ``error``."""
        self._faults[method].extend([error] * times)

    def _call(self, method: str) -> None:
        with self._lock:
            self.calls.append(method)
            queued = self._faults.get(method)
            error = queued.popleft() if queued else None
        if error is not None:
            raise error

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._seq += 1
            return f"{prefix}_fake{self._seq:06d}"

    def add_customer(self, **metadata: str) -> str:
        ident = self._id("cus")
        self.customers[ident] = StripeCustomer(ident, dict(metadata))
        return ident

    def add_subscription_item(self, customer: str, price: str, start_s: int, end_s: int) -> str:
        ident = self._id("si")
        self.subscription_items[ident] = FakeSubscriptionItem(customer, price, start_s, end_s)
        return ident

    def add_invoice(
        self,
        customer: str,
        *,
        status: InvoiceStatus = InvoiceStatus.DRAFT,
        auto_advance: bool = True,
    ) -> str:
        ident = self._id("in")
        self.invoices[ident] = FakeInvoice(customer, status, auto_advance)
        return ident

    def events_for(self, event_name: str, customer: str) -> list[MeterEventOut]:
        return [
            e
            for e in self.meter_events.values()
            if (e.event_name, e.stripe_customer_id) == (event_name, customer)
        ]

    # --- meters -------------------------------------------------------------------------

    def list_meters(self) -> list[MeterInfo]:
        self._call("list_meters")
        return list(self.meters.values())

    def create_meter(self, event_name: str, display_name: str, formula: MeterFormula) -> MeterInfo:
        self._call("create_meter")
        meter = MeterInfo(
            self._id("mtr"),
            event_name,
            MeterAggregation(formula.value),
            MeterStatus.ACTIVE,
            "stripe_customer_id",
            "value",
        )
        self.meters[meter.meter_id] = meter
        return meter

    def meter_total(
        self, meter_id: str, stripe_customer_id: str, start_s: int, end_s: int
    ) -> Decimal:
        self._call("meter_total")
        meter = self.meters.get(meter_id)
        if meter is None:
            raise missing("billing.meter", meter_id)
        events = sorted(
            (
                e
                for e in self.events_for(meter.event_name, stripe_customer_id)
                if start_s <= e.timestamp_s < end_s
            ),
            key=lambda e: e.timestamp_s,
        )
        if meter.formula is MeterAggregation.LAST:
            return Decimal(events[-1].value) if events else Decimal(0)
        if meter.formula is MeterAggregation.COUNT:
            return Decimal(len(events))
        return sum((Decimal(e.value) for e in events), Decimal(0))

    # --- meter events -------------------------------------------------------------------

    def send_meter_event(self, event: MeterEventOut) -> SentMeterEvent:
        self._call("send_meter_event")
        return self._take(event)

    def _take(self, event: MeterEventOut) -> SentMeterEvent:
        if event.stripe_customer_id not in self.customers:
            raise StripePermanentError(
                "Stripe: no such customer",
                stripe_code="meter_event_customer_not_found",
                http_status=400,
            )
        with self._lock:
            if event.identifier in self.meter_events:
                return SentMeterEvent.DUPLICATE
            self.meter_events[event.identifier] = event
        return SentMeterEvent.ACCEPTED

    def meter_error_reports(self, created_since: str | None) -> list[MeterErrorReport]:
        """Stripe's asynchronous error reports: this fake refuses at send time instead."""
        self._call("meter_error_reports")
        return []

    # --- billing credit grants and previews ------------------------------------------------

    def create_credit_grant(self, grant: CreditGrantOut) -> StripeCreditGrant:
        self._call("create_credit_grant")
        known = self._grant_replies.get(grant.idempotency_key)
        if known is not None:
            return self.credit_grants_made[known]
        made = StripeCreditGrant(
            self._id("credgr"),
            grant.currency,
            grant.amount,
            False,
            {**grant.metadata, "customer": grant.stripe_customer_id},
        )
        self.credit_grants_made[made.grant_id] = made
        self._grant_replies[grant.idempotency_key] = made.grant_id
        return made

    def credit_grants(self, stripe_customer_id: str) -> list[StripeCreditGrant]:
        self._call("credit_grants")
        return [
            g
            for g in self.credit_grants_made.values()
            if g.metadata.get("customer") == stripe_customer_id
        ]

    def void_credit_grant(self, grant_id: str, idempotency_key: str) -> None:
        self._call("void_credit_grant")
        self.credit_grants_made[grant_id] = replace(self.credit_grants_made[grant_id], voided=True)

    def credit_balance(self, stripe_customer_id: str, currency: str) -> int:
        self._call("credit_balance")
        return sum(
            g.amount
            for g in self.credit_grants(stripe_customer_id)
            if not g.voided and g.currency == currency
        )

    def preview_invoice(self, stripe_customer_id: str) -> InvoicePreview | None:
        """No subscriptions in this fake: Stripe's ``invoice_upcoming_none``."""
        self._call("preview_invoice")
        return None

    def open_meter_event_session(self) -> MeterEventSession:
        self._call("open_meter_event_session")
        token = self._id("mes")
        self.sessions[token] = self.now_s + SESSION_SECONDS
        return MeterEventSession(token, self.sessions[token])

    def stream_meter_events(self, token: str, events: Sequence[MeterEventOut]) -> None:
        self._call("stream_meter_events")
        if len(events) > 100:
            raise ValueError("a v2 meter event stream request takes at most 100 events")
        if self.sessions.get(token, 0) <= self.now_s:
            raise StripeSessionExpiredError("Stripe: the meter event session expired")
        for event in events:
            self._take(event)

    def expire_sessions(self) -> None:
        self.sessions = dict.fromkeys(self.sessions, 0)

    # --- legacy usage records -----------------------------------------------------------

    def find_subscription_item(
        self, stripe_customer_id: str, price: str
    ) -> SubscriptionItemInfo | None:
        self._call("find_subscription_item")
        for ident, item in self.subscription_items.items():
            if (item.customer, item.price) == (stripe_customer_id, price):
                return SubscriptionItemInfo(ident, item.period_start_s)
        return None

    def set_usage_record(
        self, subscription_item: str, quantity: int, timestamp_s: int, idempotency_key: str
    ) -> None:
        self._call("set_usage_record")
        item = self.subscription_items.get(subscription_item)
        if item is None:
            raise missing("subscription_item", subscription_item)
        item.usage[timestamp_s] = quantity

    def usage_record_total(self, subscription_item: str, at_s: int) -> Decimal | None:
        self._call("usage_record_total")
        item = self.subscription_items.get(subscription_item)
        if item is None:
            raise missing("subscription_item", subscription_item)
        if not item.period_start_s <= at_s < item.period_end_s:
            return None
        return Decimal(
            sum(q for t, q in item.usage.items() if item.period_start_s <= t < item.period_end_s)
        )

    # --- customers ----------------------------------------------------------------------

    def find_customer_by_metadata(self, key: str, value: str) -> str | None:
        self._call("find_customer_by_metadata")
        return next(
            (c.customer_id for c in self.customers.values() if c.metadata.get(key) == value), None
        )

    def get_customer(self, customer_id: str) -> StripeCustomer:
        self._call("get_customer")
        if customer_id not in self.customers:
            raise missing("customer", customer_id)
        return self.customers[customer_id]

    # --- invoices -----------------------------------------------------------------------

    def _invoice(self, invoice_id: str) -> FakeInvoice:
        if invoice_id not in self.invoices:
            raise missing("invoice", invoice_id)
        return self.invoices[invoice_id]

    def get_invoice(self, invoice_id: str) -> StripeInvoice:
        self._call("get_invoice")
        found = self._invoice(invoice_id)
        return StripeInvoice(invoice_id, found.status, found.auto_advance)

    def set_invoice_auto_advance(
        self, invoice_id: str, auto_advance: bool, idempotency_key: str
    ) -> None:
        self._call("set_invoice_auto_advance")
        self._invoice(invoice_id).auto_advance = auto_advance

    def invoice_lines(self, invoice_id: str) -> list[InvoiceLine]:
        self._call("invoice_lines")
        return [self._line(item_id) for item_id in self._invoice(invoice_id).items]

    def _line(self, item_id: str) -> InvoiceLine:
        params = self.item_params[item_id]
        quantity = params.get("quantity_decimal") or params.get("quantity") or 1
        return InvoiceLine(
            f"il_{item_id}",
            item_id,
            self.invoice_items[item_id].amount,
            Decimal(str(quantity)),
            dict(params.get("metadata") or {}),
        )

    def create_invoice_item(self, params: InvoiceItemParams, idempotency_key: str) -> InvoiceItem:
        self._call("create_invoice_item")
        if idempotency_key in self._replies:
            return self._replies[idempotency_key]
        invoice = self._invoice(str(params["invoice"]))
        if invoice.status is not InvoiceStatus.DRAFT:
            raise StripePermanentError(
                "Stripe: the invoice is not a draft",
                stripe_code="invoice_not_editable",
                http_status=400,
            )
        item = InvoiceItem(self._id("ii"), _amount(params))
        self.invoice_items[item.item_id] = item
        self.item_params[item.item_id] = json.loads(json.dumps(dict(params)))
        invoice.items.append(item.item_id)
        self._replies[idempotency_key] = item
        return item

    def update_invoice_item(
        self, item_id: str, params: InvoiceItemParams, idempotency_key: str
    ) -> InvoiceItem:
        self._call("update_invoice_item")
        if idempotency_key in self._replies:
            return self._replies[idempotency_key]
        if item_id not in self.invoice_items:
            raise missing("invoiceitem", item_id)
        merged = {**self.item_params[item_id], **params}
        if "amount" in params:  # an amount replaces a unit amount times a quantity
            merged.pop("unit_amount_decimal", None)
        elif "unit_amount_decimal" in params:  # and the other way round
            merged.pop("amount", None)
        self.item_params[item_id] = merged
        item = replace(self.invoice_items[item_id], amount=_amount(merged))
        self.invoice_items[item_id] = self._replies[idempotency_key] = item
        return item

    # --- webhooks -----------------------------------------------------------------------

    def verify_webhook(
        self, payload: bytes, signature_header: str | None, secrets: Sequence[str]
    ) -> dict[str, Any]:
        """Verifies when the header is ``webhook_signature`` and a secret is configured."""
        self._call("verify_webhook")
        if not secrets or signature_header != self.webhook_signature:
            raise WebhookSignatureError("the Stripe-Signature does not verify")
        event: dict[str, Any] = json.loads(payload)
        return event

    def close(self) -> None:
        self._call("close")


def _amount(params: InvoiceItemParams) -> int | None:
    """The item's amount in minor units when the request fixes it (a Stripe price's amount
    is Stripe's to compute: the fake leaves it unknown)."""
    if "amount" in params:
        return int(params["amount"])
    unit = params.get("unit_amount_decimal")
    quantity = params.get("quantity_decimal") or params.get("quantity")
    if unit is None or quantity is None:
        return None
    exact = Decimal(str(unit)) * Decimal(str(quantity))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass
class FakeStripeFactory:
    """The ``StripeFactory`` of a test: every account's port is the one fake."""

    port: FakeStripePort = field(default_factory=FakeStripePort)
    credentials: list[StripeCredentials] = field(default_factory=list)

    def __call__(self, credentials: StripeCredentials) -> FakeStripePort:
        self.credentials.append(credentials)
        return self.port


def as_port(fake: FakeStripePort) -> StripePort:
    """The fake, typed as the port (mypy checks here that it implements every method)."""
    return fake
