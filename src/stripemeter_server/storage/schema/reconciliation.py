"""Reconciliation runs, their lines and the invoice gate (migration 0006)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from stripemeter_server.storage.schema.base import metadata
from stripemeter_server.storage.types import ExactDecimal

reconciliation_settings = Table(
    "reconciliation_settings",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("gate", String(16), nullable=False),  # off | report | hold
    Column("lead_seconds", BigInteger, nullable=False),  # scheduled run before a close
    Column("updated_us", BigInteger, nullable=False),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("trigger", String(16), nullable=False),  # manual | schedule | invoice
    Column("filters", Text, nullable=False),  # JSON: period, metric, customerRef, invoice
    Column("repair", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("progress_done", BigInteger, nullable=False),
    Column("progress_total", BigInteger, nullable=True),
    Column("summary", Text, nullable=True),  # JSON, written when done
    Column("error", Text, nullable=True),
    Column("lease_until_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=True),
    Column("finished_us", BigInteger, nullable=True),
    Index("ix_reconciliation_runs_created", "tenant_id", "created_us"),
    Index("ix_reconciliation_runs_status", "tenant_id", "status", "created_us"),
)

reconciliation_lines = Table(
    "reconciliation_lines",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("line_no", BigInteger, primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("period_start_us", BigInteger, nullable=False),
    Column("period_end_us", BigInteger, nullable=False),
    Column("local_value", ExactDecimal, nullable=True),
    Column("pushed_value", ExactDecimal, nullable=True),
    Column("stripe_value", ExactDecimal, nullable=True),
    Column("absolute_drift", ExactDecimal, nullable=False),
    Column("relative_drift", ExactDecimal, nullable=True),
    Column("status", String(24), nullable=False),
    Column("money_at_stake", ExactDecimal, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("action", String(32), nullable=True),  # repaired | credit_note_needed | …
    Column("note", Text, nullable=True),
    Column("invoice_id", String(255), nullable=True),  # invoice_items lines and the gate
    Column("expected_amount", ExactDecimal, nullable=True),  # from the ledger and the price
    Column("stripe_amount", ExactDecimal, nullable=True),  # what the invoice line bills
    Column("status_after", String(24), nullable=True),  # the re-check after a repair
    Index("ix_reconciliation_lines_status", "tenant_id", "run_id", "status"),
)

# The invoice gate's verdict per draft invoice: agreed | held | reported | released.
reconciliation_invoices = Table(
    "reconciliation_invoices",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("invoice_id", String(255), primary_key=True),
    Column("customer_ref", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("gate", String(16), nullable=False),  # the setting the verdict was made under
    Column("run_id", String(64), nullable=False),  # the run that made it
    Column("drift_lines", Integer, nullable=False),
    Column("money_at_stake", ExactDecimal, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_reconciliation_invoices_state", "state", "updated_us"),
)
