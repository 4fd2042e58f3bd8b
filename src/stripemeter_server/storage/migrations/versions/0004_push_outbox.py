"""Delta push: per-counter push state, the push outbox, subscription items

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stripemeter_server.storage.types import ExactDecimal

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_state",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("pushed_units", ExactDecimal(), nullable=True),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("last_ts_s", sa.BigInteger(), nullable=True),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "customer_ref", "period_start_us"),
    )
    op.create_table(
        "push_outbox",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("push_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("period_start_us", sa.BigInteger(), nullable=False),
        sa.Column("period_end_us", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("value", ExactDecimal(), nullable=False),
        sa.Column("pushed_after", ExactDecimal(), nullable=False),
        sa.Column("timestamp_s", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("sent_us", sa.BigInteger(), nullable=True),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "push_id"),
    )
    op.create_index("ix_push_outbox_due", "push_outbox", ["status", "next_attempt_us"])
    op.create_index(
        "ix_push_outbox_counter",
        "push_outbox",
        ["tenant_id", "metric", "customer_ref", "period_start_us"],
    )
    op.create_index("ix_push_outbox_list", "push_outbox", ["tenant_id", "created_us", "push_id"])
    op.create_table(
        "stripe_subscription_items",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("subscription_item_id", sa.String(length=255), nullable=False),
        sa.Column("period_start_s", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_ref", "metric"),
    )


def downgrade() -> None:
    op.drop_table("stripe_subscription_items")
    op.drop_index("ix_push_outbox_list", table_name="push_outbox")
    op.drop_index("ix_push_outbox_counter", table_name="push_outbox")
    op.drop_index("ix_push_outbox_due", table_name="push_outbox")
    op.drop_table("push_outbox")
    op.drop_table("push_state")
