"""Backfill sessions, four-eyes approvals, rebuild jobs (migration 0007)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.schema.core import events

# An event ingested inside a backfill session carries the session's id; it counts only once
# the session is closed (storage/events_repo.py turns that into one SQL condition).
events.append_column(Column("backfill_id", String(64), nullable=True))
# Partial (ADR 0956): every lookup names a session, and an ordinary event writes no entry.
Index(
    "ix_events_tenant_backfill",
    events.c.tenant_id,
    events.c.backfill_id,
    sqlite_where=events.c.backfill_id.is_not(None),
    postgresql_where=events.c.backfill_id.is_not(None),
)

backfills = Table(
    "backfills",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("backfill_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    # JSON array of customerRefs the session may hold, or NULL for any customer.
    Column("customers", Text, nullable=True),
    Column("ts_from_us", BigInteger, nullable=True),
    Column("ts_to_us", BigInteger, nullable=True),
    # open | pending (close awaits a second key) | closed (counting) | reverted | rejected
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_by", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("close_requested_by", String(255), nullable=True),
    Column("close_requested_us", BigInteger, nullable=True),
    Column("closed_by", String(255), nullable=True),
    Column("closed_us", BigInteger, nullable=True),
    Column("reverted_by", String(255), nullable=True),
    Column("reverted_us", BigInteger, nullable=True),
    # JSON: what the close (or revert) did — events counted, effects booked forward, voided.
    Column("report", Text, nullable=True),
    Index("ix_backfills_tenant_status", "tenant_id", "status"),
)

corrections_policy = Table(
    "corrections_policy",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("four_eyes", Boolean, nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    # the adjustment id (adj_…) or backfill id (bf_…) decided on; one decision each
    Column("subject_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("requested_by", String(255), nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_by", String(255), nullable=False),
    Column("decided_us", BigInteger, nullable=False),
    Column("note", Text, nullable=True),
)

rebuild_jobs = Table(
    "rebuild_jobs",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("job_id", String(64), primary_key=True),
    Column("metric", String(255), nullable=False),
    Column("customer_ref", String(255), nullable=True),
    # running | succeeded | failed
    Column("status", String(16), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("counters", BigInteger, nullable=False),
    Column("skipped", BigInteger, nullable=False),
    Column("error", Text, nullable=True),
    Column("requested_by", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=True),
)
