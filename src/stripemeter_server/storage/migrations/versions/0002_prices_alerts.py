"""prices and alerts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "customer_ref"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=True),
        sa.Column("customer_ref", sa.String(length=255), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("secret", sa.String(length=255), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id"),
    )
    op.create_table(
        "alert_sequences",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "alert_events",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=True),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq"),
        sa.UniqueConstraint(
            "tenant_id", "rule_id", "customer_ref", "period_start_us", name="uq_alert_events_once"
        ),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_alert_events_id"),
    )
    op.create_table(
        "alert_outbox",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "delivery_id"),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["status", "next_attempt_us"])
    op.create_table(
        "alert_deliveries",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempted_us", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "delivery_id", "attempt"),
    )
    op.create_index("ix_alert_deliveries_event", "alert_deliveries", ["tenant_id", "event_seq"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_event", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_table("alert_events")
    op.drop_table("alert_sequences")
    op.drop_table("alert_rules")
    op.drop_table("prices")
