"""The ledger's keys on PostgreSQL, apart from the partitioned ``events`` (migration 0014).

A unique constraint of a partitioned table must include its partition column, so
``events`` (partitioned by ``received_us``) cannot hold ``(tenant_id, idempotency_key)``
unique. This table does: one row per stored event, inserted in the same statement as the
event, so a key is stored once whatever the partition, and dedupe reads this one narrow
index (ADR 0810). SQLite keeps the unique constraint on ``events`` and has no such table.

Each row also names its event's row by the partitioned table's key (``seq``, ``received_us``,
migration 0018): the lookups of events by key (corrections, late marks) go through this
table's key to the ledger's, and the ledger writes no index entry of its own per key
(ADR 0981). Both are NULL only for a key whose event was no longer in ``events`` when the
migration ran (an archived month).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from stripemeter_server.storage.schema.base import metadata

POSTGRESQL_ONLY = "postgresql_only"

event_keys = Table(
    "event_keys",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("fingerprint", String(32), nullable=False),
    Column("seq", BigInteger, nullable=True),
    Column("received_us", BigInteger, nullable=True),
    info={POSTGRESQL_ONLY: True},
)
