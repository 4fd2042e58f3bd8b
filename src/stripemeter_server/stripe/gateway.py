"""The Stripe adapter: builds ``StripeClient``s and translates Stripe's errors, nothing else.

Every call goes through the official ``stripe`` library. Results come back as the port's
typed records (``service/ports/stripe.py``), never as ``stripe`` objects, and every failure
as one of the port's errors: retryable, rate-limited or permanent (a test walks every error
class the library defines). Retrying is the caller's policy (the pusher's backoff), so the
library's own retries are off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import stripe

from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.stripe_mapping import MeterFormula
from stripemeter_server.service.ports.stripe import (
    CreditGrantOut,
    InvoiceItem,
    InvoiceItemParams,
    InvoiceLine,
    InvoicePreview,
    InvoiceStatus,
    MeterErrorReport,
    MeterEventOut,
    MeterEventSession,
    MeterInfo,
    SentMeterEvent,
    StripeCallError,
    StripeCredentials,
    StripeCreditGrant,
    StripeCustomer,
    StripeInvoice,
    StripePermanentError,
    StripeSessionExpiredError,
    SubscriptionItemInfo,
)
from stripemeter_server.stripe import credit_grants as grants_api
from stripemeter_server.stripe import usage_records
from stripemeter_server.stripe.errors import translated_errors
from stripemeter_server.stripe.http import PinnedStripeHTTPClient, default_hosts
from stripemeter_server.stripe.meter_errors import read_reports
from stripemeter_server.stripe.previews import invoice_preview
from stripemeter_server.stripe.records import (
    UsageRecordSummary,
    invoice_item_of,
    invoice_line,
    metadata_of,
    meter_info,
    plain,
)
from stripemeter_server.stripe.streams import stream_body
from stripemeter_server.stripe.webhooks import verify_stripe_signature

T = TypeVar("T")


DEFAULT_TIMEOUT_SECONDS = 20.0
# A resend of a push Stripe already has: the meter event exists, so the push is done.
DUPLICATE_IDENTIFIER = "duplicate_meter_event"


class StripeGateway:
    """One Stripe account, through the official library."""

    def __init__(
        self,
        credentials: StripeCredentials,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        allowed_hosts: HostAllowList | None = None,
    ) -> None:
        self._credentials = credentials
        self._http = PinnedStripeHTTPClient(
            allowed_hosts or default_hosts(), timeout=timeout_seconds
        )
        self._client = self._build(credentials.secret_key)
        self._session_client: tuple[str, stripe.StripeClient] | None = None

    def __repr__(self) -> str:
        return f"StripeGateway(api_base={self._credentials.api_base!r})"

    def _build(self, api_key: str) -> stripe.StripeClient:
        base = self._credentials.api_base
        addresses: Any = None
        if base:
            addresses = {"api": base, "meter_events": base, "files": base, "connect": base}
        return stripe.StripeClient(
            api_key, base_addresses=addresses, max_network_retries=0, http_client=self._http
        )

    def close(self) -> None:
        self._http.close()

    def _stream_client(self, token: str) -> stripe.StripeClient:
        """The client for a v2 session's token, built once per session (a session serves
        thousands of stream requests; the pool, and its connections, is the account's)."""
        held = self._session_client
        if held is None or held[0] != token:
            held = self._session_client = (token, self._build(token))
        return held[1]

    def call(self, fn: Callable[[stripe.StripeClient], T]) -> T:
        """Run one library call with translated errors (for the few one-off calls)."""
        with translated_errors():
            return fn(self._client)

    # --- meters -----------------------------------------------------------------------

    def list_meters(self) -> list[MeterInfo]:
        with translated_errors():
            page = self._client.v1.billing.meters.list(params={"limit": 100})
            return [meter_info(m) for m in page.auto_paging_iter()]

    def create_meter(self, event_name: str, display_name: str, formula: MeterFormula) -> MeterInfo:
        with translated_errors():
            meter = self._client.v1.billing.meters.create(
                params={
                    "display_name": display_name[:250],
                    "event_name": event_name,
                    "default_aggregation": {"formula": formula.value},
                }
            )
            return meter_info(meter)

    def meter_total(
        self, meter_id: str, stripe_customer_id: str, start_s: int, end_s: int
    ) -> Decimal:
        """The meter's aggregated value for a customer over ``[start, end)``."""
        with translated_errors():
            page = self._client.v1.billing.meters.event_summaries.list(
                meter_id,
                params={"customer": stripe_customer_id, "start_time": start_s, "end_time": end_s},
            )
            return sum((Decimal(str(s.aggregated_value)) for s in page.data), Decimal(0))

    # --- meter events -----------------------------------------------------------------

    def send_meter_event(self, event: MeterEventOut) -> SentMeterEvent:
        """Send one meter event: accepted now, or a duplicate Stripe already had."""
        params: Any = {
            "event_name": event.event_name,
            "payload": {"stripe_customer_id": event.stripe_customer_id, "value": str(event.value)},
            "identifier": event.identifier,
            "timestamp": event.timestamp_s,
        }
        try:
            with translated_errors():
                # ``raw_request``: the same request and the same errors as the typed
                # service, without building the answer's ``StripeObject`` (nothing reads
                # it; ~7% of a call's CPU, ADR 0945).
                self._client.raw_request(
                    "post",
                    "/v1/billing/meter_events",
                    **params,
                    idempotency_key=event.idempotency_key or event.identifier,
                )
        except StripePermanentError as exc:
            if exc.stripe_code == DUPLICATE_IDENTIFIER:
                return SentMeterEvent.DUPLICATE
            raise
        return SentMeterEvent.ACCEPTED

    def meter_error_reports(self, created_since: str | None) -> list[MeterErrorReport]:
        """Stripe's asynchronous meter error reports, oldest first (stripe/meter_errors.py)."""
        with translated_errors():
            return read_reports(self._client, created_since)

    def open_meter_event_session(self) -> MeterEventSession:
        """A v2 meter-event session: its authentication token and expiry."""
        with translated_errors():
            session = self._client.v2.billing.meter_event_session.create()
            expires = datetime.fromisoformat(str(session.expires_at).replace("Z", "+00:00"))
            return MeterEventSession(str(session.authentication_token), int(expires.timestamp()))

    def stream_meter_events(self, token: str, events: Sequence[MeterEventOut]) -> None:
        """Send up to 100 events on a v2 stream. ``stripe.TemporarySessionExpiredError``
        surfaces as ``StripeSessionExpiredError`` so the caller renews the session and
        re-sends."""
        if len(events) > 100:
            raise ValueError("a v2 meter event stream request takes at most 100 events")
        body = stream_body(events)
        try:
            with translated_errors():
                self._stream_client(token).raw_request(
                    "post", "/v2/billing/meter_event_stream", **body, base="meter_events"
                )
        except StripeCallError as exc:
            if exc.stripe_code == "billing_meter_event_session_expired":
                raise StripeSessionExpiredError(exc.message) from None
            raise

    # --- customers --------------------------------------------------------------------

    def find_customer_by_metadata(self, key: str, value: str) -> str | None:
        """The first Stripe customer whose ``metadata[key]`` equals ``value``."""
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        with translated_errors():
            found = self._client.v1.customers.search(
                params={"query": f"metadata['{key}']:'{escaped}'", "limit": 1}
            )
        return str(found.data[0].id) if found.data else None

    def get_customer(self, customer_id: str) -> StripeCustomer:
        with translated_errors():
            customer = plain(self._client.v1.customers.retrieve(customer_id))
            return StripeCustomer(str(customer["id"]), metadata_of(customer))

    # --- legacy usage records ---------------------------------------------------------

    def find_subscription_item(
        self, stripe_customer_id: str, price: str
    ) -> SubscriptionItemInfo | None:
        """The item with ``price`` on the customer's active subscription, if any."""
        with translated_errors():
            return usage_records.find_subscription_item(self._client, stripe_customer_id, price)

    def set_usage_record(
        self, subscription_item: str, quantity: int, timestamp_s: int, idempotency_key: str
    ) -> None:
        """``action=set`` on a subscription item, at the legacy API version pinned for it."""
        with translated_errors():
            usage_records.set_quantity(
                self._client, subscription_item, quantity, timestamp_s, idempotency_key
            )

    def usage_record_summaries(self, subscription_item: str) -> list[UsageRecordSummary]:
        """The item's legacy usage-record summaries (first page of 100: one per period)."""
        with translated_errors():
            return usage_records.summaries(self._client, subscription_item)

    def usage_record_total(self, subscription_item: str, at_s: int) -> Decimal | None:
        """``total_usage`` of the legacy summary whose period contains ``at_s`` (at the
        pinned legacy version); None when no summary period contains it."""
        return usage_records.total_at(self.usage_record_summaries(subscription_item), at_s)

    # --- credit grants ----------------------------------------------------------------

    def create_credit_grant(self, grant: CreditGrantOut) -> StripeCreditGrant:
        with translated_errors():
            return grants_api.create(self._client, grant)

    def credit_grants(self, stripe_customer_id: str) -> list[StripeCreditGrant]:
        with translated_errors():
            return grants_api.of_customer(self._client, stripe_customer_id)

    def void_credit_grant(self, grant_id: str, idempotency_key: str) -> None:
        with translated_errors():
            grants_api.void(self._client, grant_id, idempotency_key)

    def credit_balance(self, stripe_customer_id: str, currency: str) -> int:
        with translated_errors():
            return grants_api.balance(self._client, stripe_customer_id, currency)

    # --- invoices ---------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> StripeInvoice:
        with translated_errors():
            invoice = self._client.v1.invoices.retrieve(invoice_id)
            return StripeInvoice(
                str(invoice.id),
                InvoiceStatus(str(invoice.status)),
                bool(getattr(invoice, "auto_advance", False)),
            )

    def set_invoice_auto_advance(
        self, invoice_id: str, auto_advance: bool, idempotency_key: str
    ) -> None:
        """The invoice gate holds (False) and releases (True) drafts with it."""
        with translated_errors():
            self._client.v1.invoices.update(
                invoice_id,
                params={"auto_advance": auto_advance},
                options={"idempotency_key": idempotency_key},
            )

    def create_invoice_item(self, params: InvoiceItemParams, idempotency_key: str) -> InvoiceItem:
        with translated_errors():
            item = self._client.v1.invoice_items.create(
                params=dict(params),  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
            return invoice_item_of(item)

    def invoice_lines(self, invoice_id: str) -> list[InvoiceLine]:
        """Every line of an invoice (≤ 250 on Stripe)."""
        with translated_errors():
            page = self._client.v1.invoices.line_items.list(invoice_id, params={"limit": 100})
            return [invoice_line(plain(x)) for x in page.auto_paging_iter()]

    def update_invoice_item(
        self, item_id: str, params: InvoiceItemParams, idempotency_key: str
    ) -> InvoiceItem:
        """Correct a draft's item (reconciliation repair): quantity, unit amount, amount."""
        with translated_errors():
            item = self._client.v1.invoice_items.update(
                item_id,
                params=dict(params),  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
            return invoice_item_of(item)

    def preview_invoice(self, stripe_customer_id: str) -> InvoicePreview | None:
        """Stripe's preview of the customer's next invoice; ``None`` when Stripe answers
        ``invoice_upcoming_none`` (no subscription nor pending item to bill)."""
        try:
            with translated_errors():
                preview = self._client.v1.invoices.create_preview(
                    params={"customer": stripe_customer_id}
                )
                lines = [plain(line) for line in preview.lines.auto_paging_iter()]
                return invoice_preview(plain(preview), lines)
        except StripeCallError as exc:
            if exc.stripe_code == "invoice_upcoming_none":
                return None
            raise

    # --- webhooks ---------------------------------------------------------------------

    def verify_webhook(
        self, payload: bytes, signature_header: str | None, secrets: Sequence[str]
    ) -> dict[str, Any]:
        """Verify ``Stripe-Signature`` with the library (HMAC and the 5-minute tolerance)
        against each of ``secrets`` (the tenant's current secret and, during a rotation's
        grace, the previous one), then parse the body with bounded depth."""
        return verify_stripe_signature(payload, signature_header, secrets)


class GatewayPool:
    """The process's ``StripeFactory``: one gateway (one HTTP connection pool) per account,
    bounded, so a request or a push pass never builds a client per call. Webhook secrets are
    not part of a gateway: verification takes the tenant's current secrets each time."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_accounts: int = 1000,
        allowed_hosts: HostAllowList | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._max = max_accounts
        self._allowed = allowed_hosts or default_hosts()
        self._gateways: dict[tuple[str, str | None], StripeGateway] = {}
        self._lock = threading.Lock()

    def __call__(self, credentials: StripeCredentials) -> StripeGateway:
        key = (credentials.secret_key, credentials.api_base)
        with self._lock:
            gateway = self._gateways.get(key)
            if gateway is None:
                if len(self._gateways) >= self._max:
                    self.close()
                gateway = StripeGateway(
                    credentials, timeout_seconds=self._timeout, allowed_hosts=self._allowed
                )
                self._gateways[key] = gateway
            return gateway

    def close(self) -> None:
        for gateway in self._gateways.values():
            gateway.close()
        self._gateways.clear()
