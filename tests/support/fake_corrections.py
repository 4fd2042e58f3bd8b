"""In-memory four-eyes approvals, rebuild jobs and the audit log, with the SQL rules.

An approval is recorded once per subject (``add`` answers False the second time); the
four-eyes policy is off until set; rebuild jobs list newest first; the audit log is one
list for every tenant (``add`` names the tenant) and pages newest first by the keyset
(created_us, audit_id), as the adapter does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.corrections.ports.backfills import ApprovalRecord
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord
from stripemeter_server.service.operations.ports import AuditRecord


@dataclass
class CorrectionTables:
    """One tenant's approvals, four-eyes policy and rebuild jobs."""

    approvals: dict[str, ApprovalRecord] = field(default_factory=dict)
    four_eyes: bool = False
    rebuild_jobs: dict[str, RebuildJobRecord] = field(default_factory=dict)


class FakeApprovals:
    def __init__(self, tables: CorrectionTables) -> None:
        self._t = tables

    def add(self, record: ApprovalRecord) -> bool:
        if record.subject_id in self._t.approvals:
            return False
        self._t.approvals[record.subject_id] = record
        return True

    def get(self, subject_id: str) -> ApprovalRecord | None:
        return self._t.approvals.get(subject_id)

    def four_eyes(self) -> bool:
        return self._t.four_eyes

    def set_four_eyes(self, on: bool, actor: str, now_us: int) -> None:
        self._t.four_eyes = on


class FakeRebuildJobs:
    def __init__(self, tables: CorrectionTables) -> None:
        self._t = tables

    def add(self, record: RebuildJobRecord) -> None:
        if record.job_id in self._t.rebuild_jobs:
            raise KeyError(f"duplicate job {record.job_id}")  # the primary key
        self._t.rebuild_jobs[record.job_id] = record

    def get(self, job_id: str) -> RebuildJobRecord | None:
        return self._t.rebuild_jobs.get(job_id)

    def recent(self, limit: int) -> list[RebuildJobRecord]:
        return sorted(
            self._t.rebuild_jobs.values(), key=lambda j: (j.created_us, j.job_id), reverse=True
        )[:limit]

    def finish(self, job_id: str, **values: Any) -> None:
        if job_id in self._t.rebuild_jobs:
            self._t.rebuild_jobs[job_id] = replace(self._t.rebuild_jobs[job_id], **values)


class FakeAudit:
    """The audit log of every tenant; this one reads its own tenant's entries."""

    def __init__(self, log: list[tuple[str, AuditRecord]], tenant_id: str) -> None:
        self._log = log
        self._tenant = tenant_id

    def add(self, tenant_id: str, record: AuditRecord) -> None:
        self._log.append((tenant_id, record))

    def page(
        self, where: AuditFilter, *, before: tuple[int, str] | None, limit: int
    ) -> list[AuditRecord]:
        found = [
            r
            for t, r in self._log
            if t == self._tenant
            and _matches(r, where)
            and (before is None or (r.created_us, r.audit_id) < before)
        ]
        return sorted(found, key=lambda r: (r.created_us, r.audit_id), reverse=True)[:limit]


def _matches(record: AuditRecord, where: AuditFilter) -> bool:
    wanted = (
        (record.action, where.action),
        (record.actor, where.actor),
        (record.target_type, where.target_type),
        (record.target_id, where.target_id),
    )
    return (
        all(value is None or have == value for have, value in wanted)
        and (where.from_us is None or record.created_us >= where.from_us)
        and (where.to_us is None or record.created_us < where.to_us)
    )
