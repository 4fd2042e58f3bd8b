"""Ingest outcomes per tenant minute: the record and the repository port (the dashboard's
status counts; duplicates, conflicts and rejections are never stored as events)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IngestTally:
    """How many events got each answer; ``late`` counts accepted events that were late."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    late: int = 0

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in TALLY_FIELDS)


TALLY_FIELDS = tuple(f.name for f in fields(IngestTally))


class IngestTalliesRepository(Protocol):
    def add(self, minute_us: int, counts: IngestTally, slot: int = 0) -> None:
        """Add ``counts`` to the minute's row (created on first use), in one statement."""
        ...

    def sums(self, since_us: int) -> IngestTally:
        """The totals of the minutes starting at or after ``since_us``."""
        ...


class PrunableTallies(IngestTalliesRepository, Protocol):
    """The tallies as the housekeeping worker sees them: it also deletes old minutes."""

    def prune(self, before_us: int, limit: int) -> int:
        """Delete about ``limit`` of the tenant's oldest rows before ``before_us`` (whole
        minutes: at most ``limit`` plus the slots of the last minute); the number deleted."""
        ...
