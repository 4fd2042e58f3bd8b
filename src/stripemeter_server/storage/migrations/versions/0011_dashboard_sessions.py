"""dashboard sessions held by the server: the cookie carries an opaque token only

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "session_id"),
    )
    op.create_index("ux_dashboard_sessions_id", "dashboard_sessions", ["session_id"], unique=True)
    op.create_index("ix_dashboard_sessions_key", "dashboard_sessions", ["tenant_id", "key_id"])
    op.create_index("ix_dashboard_sessions_expiry", "dashboard_sessions", ["expires_us"])


def downgrade() -> None:
    op.drop_table("dashboard_sessions")
