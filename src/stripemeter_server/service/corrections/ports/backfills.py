"""Backfill sessions and approval decisions: records, statuses and repository ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

OPEN, PENDING, CLOSED, REVERTED, REJECTED = "open", "pending", "closed", "reverted", "rejected"


@dataclass(frozen=True, slots=True)
class BackfillRecord:
    backfill_id: str
    metric: str
    customers: tuple[str, ...] | None
    ts_from_us: int | None
    ts_to_us: int | None
    status: str
    note: str | None
    created_by: str
    created_us: int
    close_requested_by: str | None = None
    close_requested_us: int | None = None
    closed_by: str | None = None
    closed_us: int | None = None
    reverted_by: str | None = None
    reverted_us: int | None = None
    report: str | None = None

    def with_changes(self, **changes: Any) -> BackfillRecord:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    subject_id: str
    kind: str
    requested_by: str
    requested_us: int
    decision: str
    decided_by: str
    decided_us: int
    note: str | None


class BackfillsRepository(Protocol):
    def add(self, record: BackfillRecord) -> None: ...

    def get(self, backfill_id: str, *, lock: bool = False) -> BackfillRecord | None: ...

    def get_shared(self, backfill_ids: Sequence[str]) -> dict[str, BackfillRecord]: ...

    def save(self, record: BackfillRecord) -> None: ...

    def find(
        self, *, statuses: Sequence[str] | None = None, metric: str | None = None
    ) -> list[BackfillRecord]: ...


class ApprovalsRepository(Protocol):
    def add(self, record: ApprovalRecord) -> bool: ...

    def get(self, subject_id: str) -> ApprovalRecord | None: ...

    def four_eyes(self) -> bool: ...

    def set_four_eyes(self, on: bool, actor: str, now_us: int) -> None: ...
