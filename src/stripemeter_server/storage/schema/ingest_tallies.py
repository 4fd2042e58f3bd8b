"""Ingest outcomes per tenant per minute (migration 0009).

Duplicates, conflicts and rejections are answered to the sender and never stored as events,
so the dashboard's status counts come from this small table: one row per tenant per minute,
added to in the ingest transaction itself (exact, never counted twice by a retried group).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, SmallInteger, String, Table

from stripemeter_server.storage.schema.base import metadata

ingest_tallies = Table(
    "ingest_tallies",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("minute_us", BigInteger, primary_key=True),  # the minute's first microsecond
    # Concurrent groups of one tenant add to different rows of the minute (a slot each),
    # so they do not queue on one row lock; a window sums the slots.
    Column("slot", SmallInteger, primary_key=True),
    Column("accepted", BigInteger, nullable=False),  # late ones included
    Column("duplicates", BigInteger, nullable=False),
    Column("conflicts", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("late", BigInteger, nullable=False),  # accepted events that arrived late
)
