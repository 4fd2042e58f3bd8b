"""Features, customer grants, extra grants, reservations and credit grants (migration 0020)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.types import ExactDecimal

features = Table(
    "features",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("feature_key", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# One row per (tenant, customer, feature): the row reservations lock to check the balance.
entitlement_grants = Table(
    "entitlement_grants",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("feature_key", String(255), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("limit_value", ExactDecimal, nullable=True),
    Column("enforcement", String(8), nullable=False),
    Column("overage", ExactDecimal, nullable=False),
    Column("config", Text, nullable=True),
    Column("effective_us", BigInteger, nullable=True),
    Column("expires_us", BigInteger, nullable=True),
    Column("stop_at_zero_credit", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

entitlement_extras = Table(
    "entitlement_extras",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("extra_id", String(64), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("feature_key", String(255), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("window_start_us", BigInteger, nullable=False),
    Column("window_end_us", BigInteger, nullable=False),
    Column("idempotency_key", String(255), nullable=True),
    Column("note", Text, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_entitlement_extras_key"),
    Index(
        "ix_entitlement_extras_window",
        "tenant_id",
        "customer_ref",
        "feature_key",
        "window_start_us",
    ),
)

entitlement_reservations = Table(
    "entitlement_reservations",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("reservation_id", String(64), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("feature_key", String(255), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("status", String(16), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=True),
    Column("committed_quantity", ExactDecimal, nullable=True),
    Column("event_key", String(255), nullable=True),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_entitlement_reservations_key"),
    Index(
        "ix_entitlement_reservations_held",
        "tenant_id",
        "customer_ref",
        "feature_key",
        "status",
        "expires_us",
    ),
)

# Prepaid credit grants (money in a currency, or units of one metric); the burn-down is
# computed from the priced period totals when read, so no balance column can drift.
credit_grants = Table(
    "credit_grants",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("grant_id", String(64), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("denomination", String(300), nullable=False),  # currency, or unit:<metric>
    Column("category", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("effective_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=True),
    Column("applies_to", Text, nullable=True),  # JSON list of metric codes
    Column("voided_us", BigInteger, nullable=True),
    Column("idempotency_key", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_grants_key"),
    Index("ix_credit_grants_customer", "tenant_id", "customer_ref"),
)
