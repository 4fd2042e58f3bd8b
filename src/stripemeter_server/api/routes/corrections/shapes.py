"""JSON shapes of backfill sessions, approval decisions and rebuild jobs."""

from __future__ import annotations

import json
from typing import Any

from stripemeter_server.api.serialize import ts
from stripemeter_server.service.corrections.backfills import BackfillView
from stripemeter_server.service.corrections.ports.backfills import ApprovalRecord, BackfillRecord
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord


def approval_json(record: ApprovalRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "decision": record.decision,
        "requestedBy": record.requested_by,
        "requestedAt": ts(record.requested_us),
        "decidedBy": record.decided_by,
        "decidedAt": ts(record.decided_us),
        "note": record.note,
    }


def backfill_json(view: BackfillView) -> dict[str, Any]:
    r = view.record
    return {
        "id": r.backfill_id,
        "metric": r.metric,
        "customers": list(r.customers) if r.customers is not None else None,
        "from": ts(r.ts_from_us),
        "to": ts(r.ts_to_us),
        "status": r.status,
        "counting": r.status == "closed",
        "note": r.note,
        "events": view.events - view.voided,
        "voidedEvents": view.voided,
        "createdBy": r.created_by,
        "createdAt": ts(r.created_us),
        "closeRequestedBy": r.close_requested_by,
        "closeRequestedAt": ts(r.close_requested_us),
        "closedBy": r.closed_by,
        "closedAt": ts(r.closed_us),
        "revertedBy": r.reverted_by,
        "revertedAt": ts(r.reverted_us),
        "report": json.loads(r.report) if r.report else None,
        "approval": approval_json(view.approval),
    }


def held_json(sessions: list[BackfillRecord]) -> list[dict[str, Any]]:
    """Sessions whose events a read does not include yet (reads say so)."""
    return [{"id": s.backfill_id, "metric": s.metric, "status": s.status} for s in sessions]


def job_json(job: RebuildJobRecord, progress: int | None = None) -> dict[str, Any]:
    return {
        "id": job.job_id,
        "metric": job.metric,
        "customerRef": job.customer_ref,
        "status": job.status,
        "events": progress if progress is not None and job.status == "running" else job.events,
        "counters": job.counters,
        "skipped": job.skipped,
        "error": job.error,
        "requestedBy": job.requested_by,
        "createdAt": ts(job.created_us),
        "finishedAt": ts(job.finished_us),
    }
