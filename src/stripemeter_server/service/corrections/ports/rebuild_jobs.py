"""Rebuild jobs: what was asked, by whom, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RebuildJobRecord:
    job_id: str
    metric: str
    customer_ref: str | None
    status: str
    events: int
    counters: int
    skipped: int
    error: str | None
    requested_by: str
    created_us: int
    finished_us: int | None


class RebuildJobsRepository(Protocol):
    def add(self, record: RebuildJobRecord) -> None: ...

    def get(self, job_id: str) -> RebuildJobRecord | None: ...

    def recent(self, limit: int) -> list[RebuildJobRecord]:
        """The newest jobs first."""
        ...

    def finish(self, job_id: str, **values: Any) -> None: ...
