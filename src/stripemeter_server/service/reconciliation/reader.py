"""Reading Stripe's side for a reconciliation run: within the account's rate limit (the
pusher's token bucket), with short retries, never inside a database transaction.

One reader serves one run: it caches what does not change during the run (the meters by
event name, each customer's Stripe id) and the lines of each invoice until a repair changes
them (``forget_invoice``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import stamina

from stripemeter_server.domain.errors import StripeRetryableError
from stripemeter_server.service.ports.stripe import (
    InvoiceLine,
    MeterStatus,
    StripeCredentials,
    StripeInvoice,
    StripePort,
)
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.stripe_sync.rate_limit import TokenBucket
from stripemeter_server.service.stripe_sync.sender import PushPolicy
from stripemeter_server.service.stripe_sync.targets import resolve_customer

T = TypeVar("T")


def bucket_for(credentials: StripeCredentials, policy: PushPolicy) -> TokenBucket:
    """The same per-account rates as the pusher (live and test keys differ)."""
    return TokenBucket(policy.rate_live if credentials.livemode else policy.rate_test)


@dataclass
class StripeReader:
    store: Store
    tenant: str
    port: StripePort
    bucket: TokenBucket
    policy: PushPolicy = field(default_factory=PushPolicy)
    calls: int = 0
    _meters: dict[str, str] | None = None
    _customers: dict[str, str | None] = field(default_factory=dict)
    _invoices: dict[str, StripeInvoice] = field(default_factory=dict)
    _lines: dict[str, list[InvoiceLine]] = field(default_factory=dict)

    def call(self, fn: Callable[[], T]) -> T:
        """One Stripe call under the rate limit, with the pusher's short in-call retries."""
        for attempt in stamina.retry_context(
            on=StripeRetryableError,
            attempts=self.policy.call_attempts,
            wait_initial=self.policy.call_wait_initial,
            wait_max=self.policy.call_wait_max,
        ):
            with attempt:
                self.bucket.acquire()
                self.calls += 1
                return fn()
        raise AssertionError("unreachable")  # pragma: no cover

    def meter_id(self, event_name: str) -> str | None:
        if self._meters is None:
            meters = self.call(self.port.list_meters)
            self._meters = {
                m.event_name: m.meter_id for m in meters if m.status is MeterStatus.ACTIVE
            }
        return self._meters.get(event_name)

    def customer(self, customer_ref: str, now: datetime) -> str | None:
        if customer_ref not in self._customers:
            self.bucket.acquire()
            self._customers[customer_ref] = resolve_customer(
                self.store, self.tenant, self.port, customer_ref, now, refresh=False
            )
        return self._customers[customer_ref]

    def meter_total(self, meter_id: str, customer: str, start_s: int, end_s: int) -> Decimal:
        return self.call(lambda: self.port.meter_total(meter_id, customer, start_s, end_s))

    def usage_total(self, subscription_item: str, at_s: int) -> Decimal | None:
        return self.call(lambda: self.port.usage_record_total(subscription_item, at_s))

    def invoice(self, invoice_id: str) -> StripeInvoice:
        if invoice_id not in self._invoices:
            self._invoices[invoice_id] = self.call(lambda: self.port.get_invoice(invoice_id))
        return self._invoices[invoice_id]

    def invoice_lines(self, invoice_id: str) -> list[InvoiceLine]:
        if invoice_id not in self._lines:
            self._lines[invoice_id] = self.call(lambda: self.port.invoice_lines(invoice_id))
        return self._lines[invoice_id]

    def forget_invoice(self, invoice_id: str) -> None:
        """After a repair or a hold changed the invoice: read it again next time."""
        self._invoices.pop(invoice_id, None)
        self._lines.pop(invoice_id, None)
