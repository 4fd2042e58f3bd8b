"""Tenants, keys, metrics, customers, the event ledger, counters, period closes and
adjustments (migration 0001)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.types import ExactDecimal

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("auto_create_metrics", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
    # Transactions that changed the tenant's metrics or alert rules (ADR 0947).
    Column("catalog_version", BigInteger, nullable=False, server_default="0"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("label", String(255), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
    Column("expires_us", BigInteger, nullable=True),  # a rotation's grace end (0008)
)

metrics = Table(
    "metrics",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("code", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("stripe_customer_id", String(255), nullable=True),
    Column("anchor_day", Integer, nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    # A global sequence on PostgreSQL; on SQLite the row's rowid, given by the insert (a
    # composite key has no rowid alias). The key starts with the tenant (migration 0014), as
    # every unique key of a tenant table must for the schema to distribute by tenant.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("tenant_id", String(255), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("resource_id", String(255), nullable=True),
    Column("meta", Text, nullable=True),
    Column("fingerprint", String(32), nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("late_after_close", Boolean, nullable=False, default=False),
    Column("voided_us", BigInteger, nullable=True),
    Column("request_id", String(64), nullable=True),
    PrimaryKeyConstraint("tenant_id", "seq", name="pk_events"),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_events_tenant_key"),
    Index("ix_events_tenant_metric_customer_ts", "tenant_id", "metric", "customer_ref", "ts_us"),
)

counters = Table(
    "counters",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("sum", ExactDecimal, nullable=False),
    Column("max", ExactDecimal, nullable=True),
    Column("min", ExactDecimal, nullable=True),
    Column("latest_value", ExactDecimal, nullable=True),
    Column("latest_ts_us", BigInteger, nullable=True),
    Column("latest_key", String(255), nullable=True),
    Column("unique_count", BigInteger, nullable=False),
    Column("adjustments", ExactDecimal, nullable=False),
    Column("late_out", ExactDecimal, nullable=False),
    Column("watermark_us", BigInteger, nullable=True),
    Column("late_count", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_counters_tenant_customer", "tenant_id", "customer_ref", "period_start_us"),
)

counter_uniques = Table(
    "counter_uniques",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("value", String(512), primary_key=True),
)

period_locks = Table(
    "period_locks",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("period_start_us", BigInteger, primary_key=True),
    Column("period_end_us", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("final_value", ExactDecimal, nullable=True),
    Column("closed_us", BigInteger, nullable=False),
)

adjustments = Table(
    "adjustments",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("adjustment_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("delta", ExactDecimal, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Column("actor", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("event_key", String(255), nullable=True),
    Column("source_period_start_us", BigInteger, nullable=True),
    Column("reverts", String(64), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_adjustments_counter", "tenant_id", "metric", "customer_ref", "period_start_us"),
)
