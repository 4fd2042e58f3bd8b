"""The invoice webhook flow (migration 0005)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.types import ExactDecimal

# Every signed Stripe webhook event received, as a durable job: recorded in the request's
# transaction (deduplicated by Stripe's event id), then processed after the commit and by the
# worker loop. ``next_attempt_us`` is both the due time and the lease: a claim moves it forward.
stripe_webhook_events = Table(
    "stripe_webhook_events",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("event_type", String(255), nullable=False),
    Column("object_id", String(255), nullable=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | ignored | failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("received_us", BigInteger, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("processed_us", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_webhook_events_due", "tenant_id", "status", "next_attempt_us"),
    Index("ix_stripe_webhook_events_received", "tenant_id", "received_us"),
)

# One row per billed (metric, customer, period): the intent is written before Stripe is
# called, so the key can never be used for a second item; ``request`` holds the exact
# parameters so a retry sends the identical call (Stripe's idempotency replay needs that).
stripe_invoice_items = Table(
    "stripe_invoice_items",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("invoice_id", String(255), nullable=False),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("pricing", String(32), nullable=False),  # price | stripe_price | unit_amount | none
    Column("quantity", ExactDecimal, nullable=False),
    Column("amount", BigInteger, nullable=True),  # minor units; Stripe's once created
    Column("currency", String(3), nullable=True),
    Column("request", Text, nullable=True),
    Column("status", String(16), nullable=False),  # pending | created | skipped | failed
    Column("stripe_item_id", String(255), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_invoice_items_invoice", "tenant_id", "invoice_id"),
)

# The Stripe invoices the flow added usage to: recorded as drafts on ``invoice.created`` and
# completed (number, totals, status) on ``invoice.finalized``.
stripe_invoices = Table(
    "stripe_invoices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("invoice_id", String(255), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("number", String(255), nullable=True),
    Column("status", String(32), nullable=False),
    Column("subtotal", BigInteger, nullable=True),
    Column("total", BigInteger, nullable=True),
    Column("amount_due", BigInteger, nullable=True),
    Column("finalized_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_stripe_invoices_created", "tenant_id", "created_us"),
)
