"""Stripe accounts, mappings and the customer cache (migrations 0003, 0010)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from stripemeter_server.storage.schema.base import metadata

stripe_accounts = Table(
    "stripe_accounts",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # Encrypted at rest (storage/secret_box.py); never returned or logged.
    Column("secret_key_enc", Text, nullable=False),
    Column("webhook_secret_enc", Text, nullable=True),
    Column("api_base", String(255), nullable=True),
    Column("key_last4", String(4), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    # A rotation's previous webhook secret (sealed) and the end of its grace (migration 0010).
    Column("previous_webhook_secret_enc", Text, nullable=True),
    Column("previous_valid_until_us", BigInteger, nullable=True),
)

stripe_mappings = Table(
    "stripe_mappings",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("metric", String(255), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

stripe_customers = Table(
    "stripe_customers",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("customer_ref", String(255), primary_key=True),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("looked_up_us", BigInteger, nullable=False),
    Index("ix_stripe_customers_stripe_id", "tenant_id", "stripe_customer_id"),
)
