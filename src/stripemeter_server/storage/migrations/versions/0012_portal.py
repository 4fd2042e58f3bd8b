"""portal: customer portal tokens, embedding settings, allowed origins, customers' alert rules

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_tokens",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=True),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("minted_by", sa.String(length=64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "token_id"),
    )
    op.create_index("ix_portal_tokens_token_id", "portal_tokens", ["token_id"], unique=True)
    op.create_index("ix_portal_tokens_minted_by", "portal_tokens", ["tenant_id", "minted_by"])
    op.create_table(
        "portal_settings",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("frame_ancestors", sa.Text(), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "portal_origins",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "origin"),
    )
    op.create_index("ix_portal_origins_origin", "portal_origins", ["origin"])
    op.create_table(
        "portal_alert_rules",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id"),
    )
    op.create_index(
        "ix_portal_alert_rules_customer", "portal_alert_rules", ["tenant_id", "customer_ref"]
    )


def downgrade() -> None:
    op.drop_table("portal_alert_rules")
    op.drop_table("portal_origins")
    op.drop_table("portal_settings")
    op.drop_table("portal_tokens")
