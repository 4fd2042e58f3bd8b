"""tenants.catalog_version: the tenant's catalog stamp (ADR 0947)

Every transaction that changes a tenant's metrics or alert rules increments it, so ingest
reads the number with its key stamp and keeps its copy of the catalog while it is unchanged.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("catalog_version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("catalog_version")
