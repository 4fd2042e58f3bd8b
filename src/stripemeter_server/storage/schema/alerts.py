"""Prices and alerts (migration 0002)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from stripemeter_server.storage.schema.base import metadata

prices = Table(
    "prices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    # '' is the metric's default price; any other value is that customer's override.
    Column("customer_ref", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=True),
    Column("customer_ref", String(255), nullable=True),
    Column("definition", Text, nullable=False),
    Column("webhook_url", Text, nullable=True),
    Column("secret", String(255), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

alert_sequences = Table(
    "alert_sequences",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("metric", String(255), nullable=True),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint(
        "tenant_id", "rule_id", "customer_ref", "period_start_us", name="uq_alert_events_once"
    ),
    UniqueConstraint("tenant_id", "event_id", name="uq_alert_events_id"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_alert_outbox_due", "tenant_id", "status", "next_attempt_us"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("attempted_us", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("duration_us", BigInteger, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=True),
    Index("ix_alert_deliveries_event", "tenant_id", "event_seq"),
)
