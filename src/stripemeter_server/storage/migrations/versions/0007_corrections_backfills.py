"""Backfill sessions (events.backfill_id), four-eyes policy and approvals, rebuild jobs

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("backfill_id", sa.String(length=64), nullable=True))
    op.create_index("ix_events_tenant_backfill", "events", ["tenant_id", "backfill_id"])
    op.create_table(
        "backfills",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("backfill_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customers", sa.Text(), nullable=True),
        sa.Column("ts_from_us", sa.BigInteger(), nullable=True),
        sa.Column("ts_to_us", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("close_requested_by", sa.String(length=255), nullable=True),
        sa.Column("close_requested_us", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closed_us", sa.BigInteger(), nullable=True),
        sa.Column("reverted_by", sa.String(length=255), nullable=True),
        sa.Column("reverted_us", sa.BigInteger(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "backfill_id"),
    )
    op.create_index("ix_backfills_tenant_status", "backfills", ["tenant_id", "status"])
    op.create_table(
        "corrections_policy",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "approvals",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_us", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_us", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "subject_id"),
    )
    op.create_table(
        "rebuild_jobs",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("counters", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "job_id"),
    )


def downgrade() -> None:
    op.drop_table("rebuild_jobs")
    op.drop_table("approvals")
    op.drop_table("corrections_policy")
    op.drop_index("ix_backfills_tenant_status", table_name="backfills")
    op.drop_table("backfills")
    op.drop_index("ix_events_tenant_backfill", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("backfill_id")
