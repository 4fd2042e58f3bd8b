"""The delta push: push state, the outbox, subscription items (migration 0004)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.types import ExactDecimal

push_state = Table(
    "push_state",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    # What the pushed total refers to (``meter_events:<event name>`` or
    # ``usage_records:<price>``): a mapping moved to a new target starts from nothing there.
    Column("target", String(255), nullable=False),
    # Whole units Stripe has once every outbox row of this counter is sent.
    Column("pushed_units", ExactDecimal, nullable=True),
    Column("next_seq", Integer, nullable=False),
    Column("last_ts_s", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    # ``counters.updated_us`` as the plan read it (migration 0015, ADR 0850).
    Column("counter_updated_us", BigInteger, nullable=True),
)

push_outbox = Table(
    "push_outbox",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # The deterministic identifier (meter event ``identifier`` and idempotency key).
    Column("push_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("transport", String(16), nullable=False),
    # Meter event name, or the subscription item (filled in before the first send).
    Column("target", String(255), nullable=True),
    Column("stripe_customer_id", String(255), nullable=True),
    Column("value", ExactDecimal, nullable=False),
    Column("pushed_after", ExactDecimal, nullable=False),
    Column("timestamp_s", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_error_code", String(64), nullable=True),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("lease_until_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("sent_us", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_push_outbox_due", "tenant_id", "status", "next_attempt_us"),
    Index("ix_push_outbox_counter", "tenant_id", "metric", "customer_ref", "period_start_us"),
    Index("ix_push_outbox_list", "tenant_id", "created_us", "push_id"),
)

stripe_subscription_items = Table(
    "stripe_subscription_items",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("subscription_item_id", String(255), nullable=False),
    Column("period_start_s", BigInteger, nullable=True),
    # ``override`` (set through the API, never replaced by a lookup) or ``lookup`` (cached).
    Column("source", String(16), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)
