"""Stripe accounts (secrets encrypted), metric mappings, the customer-id cache

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_accounts",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("secret_key_enc", sa.Text(), nullable=False),
        sa.Column("webhook_secret_enc", sa.Text(), nullable=True),
        sa.Column("api_base", sa.String(length=255), nullable=True),
        sa.Column("key_last4", sa.String(length=4), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "stripe_mappings",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "metric"),
    )
    op.create_table(
        "stripe_customers",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("looked_up_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_ref"),
    )
    op.create_index(
        "ix_stripe_customers_stripe_id", "stripe_customers", ["tenant_id", "stripe_customer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_stripe_customers_stripe_id", table_name="stripe_customers")
    op.drop_table("stripe_customers")
    op.drop_table("stripe_mappings")
    op.drop_table("stripe_accounts")
