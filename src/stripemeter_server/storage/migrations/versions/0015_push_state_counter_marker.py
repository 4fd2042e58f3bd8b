"""push_state.counter_updated_us: the counter's write a plan saw (ADR 0850)

An incremental planning scan reads only counters whose ``updated_us`` differs from the one
their push state was planned from, instead of every counter written in the last minute.
Existing rows keep NULL: the older overlap rule still covers them.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("push_state", sa.Column("counter_updated_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("push_state") as batch:
        batch.drop_column("counter_updated_us")
