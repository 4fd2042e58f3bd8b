"""ix_events_tenant_backfill only over events held in a backfill session (ADR 0956)

Every lookup through it names a session (``backfill_id = ?``, ``backfill_id IN (…)``), which
implies ``backfill_id IS NOT NULL``; as a partial index an ordinary event writes no entry.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NAME = "ix_events_tenant_backfill"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="events")
    held = sa.text("backfill_id IS NOT NULL")
    op.create_index(
        _NAME,
        "events",
        ["tenant_id", "backfill_id"],
        sqlite_where=held,
        postgresql_where=held,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="events")
    op.create_index(_NAME, "events", ["tenant_id", "backfill_id"])
