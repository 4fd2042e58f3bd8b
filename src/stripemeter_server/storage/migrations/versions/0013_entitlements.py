"""entitlements and credits: features, customer grants, extra grants, reservations, credit grants

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stripemeter_server.storage.types import ExactDecimal

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "features",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("feature_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "feature_key"),
    )
    op.create_table(
        "entitlement_grants",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("feature_key", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("limit_value", ExactDecimal(), nullable=True),
        sa.Column("enforcement", sa.String(length=8), nullable=False),
        sa.Column("overage", ExactDecimal(), nullable=False),
        sa.Column("config", sa.Text(), nullable=True),
        sa.Column("effective_us", sa.BigInteger(), nullable=True),
        sa.Column("expires_us", sa.BigInteger(), nullable=True),
        sa.Column("stop_at_zero_credit", sa.Boolean(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_ref", "feature_key"),
    )
    op.create_table(
        "entitlement_extras",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("extra_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("feature_key", sa.String(length=255), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("window_start_us", sa.BigInteger(), nullable=False),
        sa.Column("window_end_us", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "extra_id"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_entitlement_extras_key"),
    )
    op.create_index(
        "ix_entitlement_extras_window",
        "entitlement_extras",
        ["tenant_id", "customer_ref", "feature_key", "window_start_us"],
    )
    op.create_table(
        "entitlement_reservations",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("feature_key", sa.String(length=255), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.Column("committed_quantity", ExactDecimal(), nullable=True),
        sa.Column("event_key", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "reservation_id"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_entitlement_reservations_key"),
    )
    op.create_index(
        "ix_entitlement_reservations_held",
        "entitlement_reservations",
        ["tenant_id", "customer_ref", "feature_key", "status", "expires_us"],
    )
    op.create_table(
        "credit_grants",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("denomination", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("effective_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=True),
        sa.Column("applies_to", sa.Text(), nullable=True),
        sa.Column("voided_us", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "grant_id"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_grants_key"),
    )
    op.create_index("ix_credit_grants_customer", "credit_grants", ["tenant_id", "customer_ref"])


def downgrade() -> None:
    op.drop_table("credit_grants")
    op.drop_table("entitlement_reservations")
    op.drop_table("entitlement_extras")
    op.drop_table("entitlement_grants")
    op.drop_table("features")
