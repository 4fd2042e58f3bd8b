"""tenant-first keys: the events primary key becomes (tenant_id, seq)

Citus distributes a table by one column and requires that column in every primary key and
unique constraint; every other tenant table already starts its keys with ``tenant_id``. The
index ``ix_events_tenant_seq`` duplicated the new key and goes. The workers claim tenant by
tenant, so the indexes they claim through start with the tenant too.

Revision ID: 0022
Revises: 0009
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0009"
branch_labels = None
depends_on = None


# (table, index, columns before, columns after)
_DUE_INDEXES = [
    ("push_outbox", "ix_push_outbox_due", ["status", "next_attempt_us"]),
    ("alert_outbox", "ix_alert_outbox_due", ["status", "next_attempt_us"]),
    ("stripe_webhook_events", "ix_stripe_webhook_events_due", ["status", "next_attempt_us"]),
    ("reconciliation_runs", "ix_reconciliation_runs_status", ["status", "created_us"]),
]


def _due_indexes(tenant_first: bool) -> None:
    for table, name, columns in _DUE_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["tenant_id", *columns] if tenant_first else columns)


def upgrade() -> None:
    _due_indexes(tenant_first=True)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
        return
    op.drop_index("ix_events_tenant_seq", table_name="events")
    op.drop_constraint("events_pkey", "events", type_="primary")
    op.create_primary_key("pk_events", "events", ["tenant_id", "seq"])


def _sqlite_upgrade() -> None:
    # A composite key has no rowid alias: the ledger gives each row ``rowid = seq`` (the next
    # rowid, which SQLite finds at the end of its table b-tree). The copy the batch makes
    # renumbers rowids, so they are set back to ``seq`` (in two passes: no collision midway).
    # The batch copy starts from the reflected key (seq) and warns that it is replaced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        _sqlite_rekey()
    op.execute("UPDATE events SET rowid = -rowid")
    op.execute("UPDATE events SET rowid = seq")


def _sqlite_rekey() -> None:
    with op.batch_alter_table("events", recreate="always") as batch_op:
        batch_op.drop_index("ix_events_tenant_seq")
        batch_op.alter_column(
            "seq", existing_type=sa.Integer(), autoincrement=False, nullable=False
        )
        batch_op.create_primary_key("pk_events", ["tenant_id", "seq"])


def downgrade() -> None:
    _due_indexes(tenant_first=False)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_events", ["seq"])
            batch_op.create_index("ix_events_tenant_seq", ["tenant_id", "seq"], unique=False)
        return
    op.drop_constraint("pk_events", "events", type_="primary")
    op.create_primary_key("events_pkey", "events", ["seq"])
    op.create_index("ix_events_tenant_seq", "events", ["tenant_id", "seq"], unique=False)
