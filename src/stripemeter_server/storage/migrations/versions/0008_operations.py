"""operations: audit log, per-tenant rate limits, worker heartbeats

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("expires_us", sa.BigInteger(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("audit_id", sa.String(length=64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=512), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "audit_id"),
    )
    op.create_index("ix_audit_log_page", "audit_log", ["tenant_id", "created_us", "audit_id"])
    op.create_table(
        "tenant_rate_limits",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("rate_per_second", sa.Float(), nullable=True),
        sa.Column("burst", sa.Float(), nullable=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=128), nullable=False),
        sa.Column("loop", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=False),
        sa.Column("beat_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "loop"),
    )
    op.create_index("ix_worker_heartbeats_loop", "worker_heartbeats", ["loop", "beat_us"])


def downgrade() -> None:
    op.drop_index("ix_worker_heartbeats_loop", table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
    op.drop_table("tenant_rate_limits")
    op.drop_index("ix_audit_log_page", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_column("api_keys", "expires_us")
