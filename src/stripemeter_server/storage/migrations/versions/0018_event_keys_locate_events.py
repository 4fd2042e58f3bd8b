"""PostgreSQL: ``event_keys`` names each event's row; ``ix_events_tenant_key`` goes (ADR 0981)

Every ingested event wrote two index entries for its key: the unique one in ``event_keys``
(dedupe) and ``ix_events_tenant_key`` on the partitioned ledger (the lookups of events by key:
corrections, late marks). ``event_keys`` now carries the event's ``seq`` and ``received_us``,
so a lookup by key probes its unique key and then the ledger's primary key (``tenant_id``,
``seq``, ``received_us``) in the event's month, and the ledger's own key index is dropped.
SQLite keeps its unique key on ``events`` (no ``event_keys`` there): nothing changes.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_INDEX = "ix_events_tenant_key"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.add_column("event_keys", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("event_keys", sa.Column("received_us", sa.BigInteger(), nullable=True))
    # A key whose event is no longer in ``events`` (an archived month) keeps NULLs.
    op.execute(
        "UPDATE event_keys k SET seq = e.seq, received_us = e.received_us FROM events e "
        "WHERE e.tenant_id = k.tenant_id AND e.idempotency_key = k.idempotency_key"
    )
    op.drop_index(_INDEX, table_name="events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.create_index(_INDEX, "events", ["tenant_id", "idempotency_key"])
    op.drop_column("event_keys", "received_us")
    op.drop_column("event_keys", "seq")
