"""reconciliation runs, their lines, and the per-tenant invoice gate

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stripemeter_server.storage.types import ExactDecimal

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_settings",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("gate", sa.String(length=16), nullable=False),
        sa.Column("lead_seconds", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "reconciliation_runs",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("repair", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress_done", sa.BigInteger(), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=True),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "run_id"),
    )
    op.create_index(
        "ix_reconciliation_runs_created", "reconciliation_runs", ["tenant_id", "created_us"]
    )
    op.create_index(
        "ix_reconciliation_runs_status", "reconciliation_runs", ["status", "created_us"]
    )
    op.create_table(
        "reconciliation_lines",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("local_value", ExactDecimal(), nullable=True),
        sa.Column("pushed_value", ExactDecimal(), nullable=True),
        sa.Column("stripe_value", ExactDecimal(), nullable=True),
        sa.Column("absolute_drift", ExactDecimal(), nullable=False),
        sa.Column("relative_drift", ExactDecimal(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("money_at_stake", ExactDecimal(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("invoice_id", sa.String(length=255), nullable=True),
        sa.Column("expected_amount", ExactDecimal(), nullable=True),
        sa.Column("stripe_amount", ExactDecimal(), nullable=True),
        sa.Column("status_after", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "line_no"),
    )
    op.create_index(
        "ix_reconciliation_lines_status", "reconciliation_lines", ["tenant_id", "run_id", "status"]
    )
    op.create_table(
        "reconciliation_invoices",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("invoice_id", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("gate", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("drift_lines", sa.Integer(), nullable=False),
        sa.Column("money_at_stake", ExactDecimal(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id"),
    )
    op.create_index(
        "ix_reconciliation_invoices_state", "reconciliation_invoices", ["state", "updated_us"]
    )


def downgrade() -> None:
    op.drop_index("ix_reconciliation_invoices_state", table_name="reconciliation_invoices")
    op.drop_table("reconciliation_invoices")
    op.drop_index("ix_reconciliation_lines_status", table_name="reconciliation_lines")
    op.drop_table("reconciliation_lines")
    op.drop_index("ix_reconciliation_runs_status", table_name="reconciliation_runs")
    op.drop_index("ix_reconciliation_runs_created", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
    op.drop_table("reconciliation_settings")
