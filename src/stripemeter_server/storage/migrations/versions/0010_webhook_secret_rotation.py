"""webhook secret rotation: the previous secret (sealed) and the end of its grace

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stripe_accounts", sa.Column("previous_webhook_secret_enc", sa.Text(), nullable=True)
    )
    op.add_column(
        "stripe_accounts", sa.Column("previous_valid_until_us", sa.BigInteger(), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("stripe_accounts") as batch:
        batch.drop_column("previous_valid_until_us")
        batch.drop_column("previous_webhook_secret_enc")
