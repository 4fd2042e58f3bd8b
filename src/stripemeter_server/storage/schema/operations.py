"""The audit log, per-tenant rate limits, worker heartbeats (migration 0008)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from stripemeter_server.storage.schema.base import metadata

# Who changed what, when, with the state before and after (JSON; secrets only as "changed").
# Written by ``service/audit.py`` in the same transaction as the change it describes.
audit_log = Table(
    "audit_log",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("audit_id", String(64), primary_key=True),
    Column("created_us", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),  # an API key id, ``cli`` or ``system``
    Column("action", String(64), nullable=False),  # e.g. ``api_key.revoke``
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(512), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Index("ix_audit_log_page", "tenant_id", "created_us", "audit_id"),
)

# One token bucket per tenant, shared by every node (PostgreSQL: the row is locked for the
# few statements of the admission transaction). ``rate_per_second``/``burst`` NULL: the
# deployment's defaults; a rate of 0: unlimited.
tenant_rate_limits = Table(
    "tenant_rate_limits",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("rate_per_second", Float, nullable=True),
    Column("burst", Float, nullable=True),
    Column("tokens", Float, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# A row per background loop per process, beaten by the loop itself: ``/health/ready`` fails
# when a loop's freshest beat is stale (not tenant data: a local table on Citus).
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(128), primary_key=True),
    Column("loop", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("beat_us", BigInteger, nullable=False),
    Index("ix_worker_heartbeats_loop", "loop", "beat_us"),
)
