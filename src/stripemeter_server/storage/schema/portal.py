"""The customer-facing portal (migration 0021): tokens, embedding settings, origins and the
alert rules customers made through the portal.

A token's secret is stored only as its SHA-256 hash (like API keys). ``token_id`` is unique
on its own: a bearer token names its row, and the row names its tenant.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from stripemeter_server.storage.schema.base import metadata

portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("token_id", String(64), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("metrics", Text, nullable=True),  # JSON list; NULL: every metric
    Column("scopes", String(255), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("minted_by", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
    Index("ix_portal_tokens_token_id", "token_id", unique=True),
    Index("ix_portal_tokens_minted_by", "tenant_id", "minted_by"),
)

portal_settings = Table(
    "portal_settings",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("frame_ancestors", Text, nullable=False),  # JSON list
    Column("theme", Text, nullable=False),  # JSON object
    Column("updated_us", BigInteger, nullable=False),
)

portal_origins = Table(
    "portal_origins",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("origin", String(255), primary_key=True),
    Index("ix_portal_origins_origin", "origin"),
)

portal_alert_rules = Table(
    "portal_alert_rules",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_portal_alert_rules_customer", "tenant_id", "customer_ref"),
)
