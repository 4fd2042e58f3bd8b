"""Monthly partitions of the ``events`` table on PostgreSQL (ADR 0810).

``events`` is partitioned by range of ``received_us`` (UTC months): every insert lands in the
current month's partition, whose indexes stay small and cached however long the ledger grows,
and old months can be detached and archived whole. A default partition takes any row no month
partition covers, so an insert never fails when the partitions were not prepared in time; the
worker prepares the current month and the ones after it (``prepare``), and the migration the
months of the rows it moves plus the current and the next.

A month is never created over rows the default partition already holds for it (PostgreSQL
refuses: the rows would have to move); such a month stays in the default partition until an
operator moves it (docs/operations.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

MONTHS_AHEAD = 2  # the current month and the next two exist at every worker pass
DEFAULT_PARTITION = "events_default"


def month_start(at: datetime) -> datetime:
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    return f"events_y{start.year:04d}m{start.month:02d}"


def _micros(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000


def months_between(first_us: int, last_us: int) -> list[datetime]:
    """The month starts covering ``first_us`` .. ``last_us`` (inclusive)."""
    month = month_start(datetime.fromtimestamp(first_us / 1_000_000, UTC))
    last = datetime.fromtimestamp(last_us / 1_000_000, UTC)
    months = []
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def create_month(conn: Connection, start: datetime) -> bool:
    """Create the month's partition unless it exists; False when it already did, or when the
    default partition holds rows of that month (left as they are, logged by the caller)."""
    name = partition_name(start)
    if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
        return False
    lower, upper = _micros(start), _micros(next_month(start))
    held = conn.execute(
        text(
            f"SELECT 1 FROM {DEFAULT_PARTITION} WHERE received_us >= :lower "
            "AND received_us < :upper LIMIT 1"
        ),
        {"lower": lower, "upper": upper},
    ).first()
    if held is not None:
        return False
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events "
            f"FOR VALUES FROM ({lower}) TO ({upper})"
        )
    )
    return True


def prepare(conn: Connection, now_us: int, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create the current month's partition and the next ``months_ahead``; returns the new
    ones' names."""
    month = month_start(datetime.fromtimestamp(now_us / 1_000_000, UTC))
    created = []
    for _ in range(months_ahead + 1):
        if create_month(conn, month):
            created.append(partition_name(month))
        month = next_month(month)
    return created
