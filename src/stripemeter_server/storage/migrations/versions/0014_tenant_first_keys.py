"""tenant-first keys (events keyed (tenant_id, seq)); PostgreSQL: events in monthly partitions

Citus distributes a table by one column and requires that column in every primary key and
unique constraint; every other tenant table already starts its keys with ``tenant_id``. The
index ``ix_events_tenant_seq`` duplicated the new key and goes. The workers claim tenant by
tenant, so the indexes they claim through start with the tenant too.

On PostgreSQL ``events`` becomes partitioned by month of ``received_us`` (ADR 0810): its key
is (tenant_id, seq, received_us), the idempotency keys move to ``event_keys`` (unique there,
whatever the partition), and the rows move into the months they were received in.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

from stripemeter_server.storage.postgres import partitions

revision = "0014"
down_revision = "0013"
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
    _partition_events()


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


def _partition_events() -> None:
    """Rebuild ``events`` as a partitioned table: the same columns and sequence, the rows
    moved, the keys copied into ``event_keys``."""
    op.execute("ALTER SEQUENCE events_seq_seq OWNED BY NONE")
    op.execute("ALTER TABLE events RENAME TO events_unpartitioned")
    op.execute("ALTER TABLE events_unpartitioned RENAME CONSTRAINT pk_events TO pk_events_old")
    for name in ("ix_events_tenant_metric_customer_ts", "ix_events_tenant_backfill"):
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    op.execute(
        "ALTER TABLE events_unpartitioned RENAME CONSTRAINT uq_events_tenant_key "
        "TO uq_events_tenant_key_old"
    )
    op.execute(
        "CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (received_us)"
    )
    op.execute(f"CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF events DEFAULT")
    bind = op.get_bind()
    first, last = bind.execute(
        sa.text("SELECT min(received_us), max(received_us) FROM events_unpartitioned")
    ).one()
    if first is not None:
        for month in partitions.months_between(first, last):
            partitions.create_month(bind, month)
    now_us = bind.execute(
        sa.text("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")
    ).scalar_one()
    partitions.prepare(bind, now_us, months_ahead=1)
    op.execute("INSERT INTO events SELECT * FROM events_unpartitioned")
    op.create_table(
        "event_keys",
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "idempotency_key"),
    )
    op.execute(
        "INSERT INTO event_keys SELECT tenant_id, idempotency_key, fingerprint "
        "FROM events_unpartitioned"
    )
    op.drop_table("events_unpartitioned")
    op.execute("ALTER SEQUENCE events_seq_seq OWNED BY events.seq")
    op.create_primary_key("pk_events", "events", ["tenant_id", "seq", "received_us"])
    for name, columns in _EVENT_INDEXES:
        op.create_index(name, "events", columns)


# The partitioned table's indexes (each partition gets its own): the key lookups of
# corrections and late marks, the usage history, the backfill sessions.
_EVENT_INDEXES = [
    ("ix_events_tenant_key", ["tenant_id", "idempotency_key"]),
    ("ix_events_tenant_metric_customer_ts", ["tenant_id", "metric", "customer_ref", "ts_us"]),
    ("ix_events_tenant_backfill", ["tenant_id", "backfill_id"]),
]


def downgrade() -> None:
    _due_indexes(tenant_first=False)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_events", ["seq"])
            batch_op.create_index("ix_events_tenant_seq", ["tenant_id", "seq"], unique=False)
        return
    _unpartition_events()
    op.drop_constraint("pk_events", "events", type_="primary")
    op.create_primary_key("events_pkey", "events", ["seq"])
    op.create_index("ix_events_tenant_seq", "events", ["tenant_id", "seq"], unique=False)


def _unpartition_events() -> None:
    op.execute("ALTER SEQUENCE events_seq_seq OWNED BY NONE")
    op.execute("ALTER TABLE events RENAME TO events_partitioned")
    op.execute("ALTER TABLE events_partitioned RENAME CONSTRAINT pk_events TO pk_events_old")
    for name, _columns in _EVENT_INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    op.execute("CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS)")
    op.execute("INSERT INTO events SELECT * FROM events_partitioned")
    op.execute("DROP TABLE events_partitioned")
    op.drop_table("event_keys")
    op.execute("ALTER SEQUENCE events_seq_seq OWNED BY events.seq")
    op.create_primary_key("pk_events", "events", ["tenant_id", "seq"])
    op.create_unique_constraint("uq_events_tenant_key", "events", ["tenant_id", "idempotency_key"])
    for name, columns in _EVENT_INDEXES[1:]:
        op.create_index(name, "events", columns)
