"""Adjustments, voids, four-eyes decisions, backfills and rebuilds on the wire."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from stripemeter_server.api.serialize import dec, instant, parse_time_param, ts
from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    DecimalText,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    render,
    request_body,
    response,
    shape_of,
)
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.backfills import BackfillView
from stripemeter_server.service.corrections.commands import (
    NewAdjustment,
    OpenBackfill,
    RebuildTarget,
    adjustment_command,
    open_backfill_command,
    rebuild_target,
)
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord
from stripemeter_server.service.corrections.ports.backfills import ApprovalRecord
from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord


class AdjustmentRequest(Body):
    metric: str
    customer_ref: str
    delta: DecimalInput
    reason: str | Unset | None = UNSET
    note: str | Unset | None = UNSET
    period_start: Instant | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class VoidRequest(Body):
    idempotency_key: str


class PolicyChange(Body):
    four_eyes: bool


class Decision(Body):
    """A four-eyes decision; a ``note`` that is not a string is ignored."""

    note: str | Unset | None = UNSET


class BackfillRequest(Body):
    metric: str
    customers: list[str] | Unset | None = UNSET
    from_: Instant | Unset = msgspec.field(default=UNSET, name="from")
    to: Instant | Unset = UNSET
    note: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class RebuildRequest(Body):
    metric: str
    customer_ref: str | Unset | None = UNSET
    wait_seconds: int | Unset = UNSET
    tenant_id: str | Unset = UNSET


ADJUSTMENT = request_body(
    AdjustmentRequest,
    examples=(
        {
            "metric": "api_calls",
            "customerRef": "cus_ABC123",
            "delta": "-100",
            "reason": "credit",
            "note": "outage on the 3rd",
        },
    ),
)
VOID = request_body(VoidRequest, examples=({"idempotencyKey": "order/42/line/4"},))
POLICY = request_body(PolicyChange, examples=({"fourEyes": True},))
DECISION = request_body(
    Decision, examples=({"note": "checked against the contract"},), required=False
)
BACKFILL = request_body(
    BackfillRequest,
    examples=(
        {
            "metric": "api_calls",
            "customers": ["cus_ABC123"],
            "from": "2024-01-01T00:00:00Z",
            "to": "2025-01-01T00:00:00Z",
            "note": "re-import 2024 from the warehouse",
        },
    ),
)
REBUILD = request_body(
    RebuildRequest, examples=({"metric": "api_calls", "customerRef": "cus_ABC123"},)
)


def adjustment_command_of(body: dict[str, Any]) -> NewAdjustment:
    """The adjustment a ``POST /v1/adjustments`` body asks for: the keys it must carry,
    then each value through its bounded parser, in the order they always came."""
    for name in ("metric", "customerRef"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ValidationError(f"{name} is required", code="missing_field", field=name)
    if "delta" not in body:
        raise ValidationError("delta is required", code="missing_field", field="delta")
    at = parse_time_param(body.get("periodStart"), "periodStart")
    return adjustment_command(
        metric=body["metric"],
        customer_ref=body["customerRef"],
        delta_raw=body["delta"],
        reason=str(body.get("reason") or ""),
        note=body.get("note"),
        at=at,
    )


def backfill_command(body: dict[str, Any]) -> OpenBackfill:
    """The session a ``POST /v1/backfills`` body asks for (its declared keys only)."""
    return open_backfill_command(
        body.get("metric"),
        customers=body.get("customers"),
        ts_from=body.get("from"),
        ts_to=body.get("to"),
        note=body.get("note"),
    )


def rebuild_command(body: dict[str, Any]) -> RebuildTarget:
    return rebuild_target(body.get("metric"), body.get("customerRef"))


ADJUSTMENT_SHAPE = shape_of(AdjustmentRequest)
VOID_SHAPE = shape_of(VoidRequest)
POLICY_SHAPE = shape_of(PolicyChange)
DECISION_SHAPE = shape_of(Decision)
BACKFILL_SHAPE = shape_of(BackfillRequest)
REBUILD_SHAPE = shape_of(RebuildRequest)


# --- answers ------------------------------------------------------------------------------


class AdjustmentAnswer(StrictBody):
    id: str
    metric: str
    customer_ref: str
    period_start: Instant
    delta: DecimalText
    reason: str
    note: str | None
    actor: str
    status: str
    event_key: str | None
    source_period_start: Instant | None
    reverts: str | None
    created_at: Instant


class AdjustmentList(StrictBody):
    data: list[AdjustmentAnswer]


class ApprovalAnswer(StrictBody):
    """Who asked, who decided (four-eyes) and when."""

    decision: str
    requested_by: str
    requested_at: Instant
    decided_by: str
    decided_at: Instant
    note: str | None


class AdjustmentWithApproval(AdjustmentAnswer):
    approval: ApprovalAnswer | None


class PolicyAnswer(StrictBody):
    four_eyes: bool


class VoidAnswer(StrictBody):
    idempotency_key: str
    voided: bool


class BackfillAnswer(StrictBody):
    id: str
    metric: str
    customers: list[str] | None
    from_: Instant | None = msgspec.field(name="from")
    to: Instant | None
    status: str
    counting: bool
    note: str | None
    events: int
    voided_events: int
    created_by: str
    created_at: Instant
    close_requested_by: str | None
    close_requested_at: Instant | None
    closed_by: str | None
    closed_at: Instant | None
    reverted_by: str | None
    reverted_at: Instant | None
    report: JsonObject | None
    approval: ApprovalAnswer | None


class BackfillList(StrictBody):
    data: list[BackfillAnswer]


class RebuildJobAnswer(StrictBody):
    id: str
    metric: str
    customer_ref: str | None
    status: str
    events: int
    counters: int
    skipped: int
    error: str | None
    requested_by: str
    created_at: Instant
    finished_at: Instant | None


def _adjustment_fields(record: AdjustmentRecord) -> dict[str, Any]:
    return {
        "id": record.adjustment_id,
        "metric": record.metric,
        "customer_ref": record.customer_ref,
        "period_start": instant(record.period_start_us),
        "delta": dec(record.delta),
        "reason": record.reason,
        "note": record.note,
        "actor": record.actor,
        "status": record.status,
        "event_key": record.event_key,
        "source_period_start": ts(record.source_period_start_us),
        "reverts": record.reverts,
        "created_at": instant(record.created_us),
    }


def adjustment_answer(record: AdjustmentRecord) -> AdjustmentAnswer:
    return AdjustmentAnswer(**_adjustment_fields(record))


def adjustment_json(record: AdjustmentRecord) -> dict[str, Any]:
    return render(adjustment_answer(record))


def adjustments_json(records: list[AdjustmentRecord]) -> dict[str, Any]:
    return render(AdjustmentList(data=[adjustment_answer(r) for r in records]))


def _approval(record: ApprovalRecord | None) -> ApprovalAnswer | None:
    if record is None:
        return None
    return ApprovalAnswer(
        decision=record.decision,
        requested_by=record.requested_by,
        requested_at=instant(record.requested_us),
        decided_by=record.decided_by,
        decided_at=instant(record.decided_us),
        note=record.note,
    )


def adjustment_with_approval_json(
    record: AdjustmentRecord, approval: ApprovalRecord | None
) -> dict[str, Any]:
    return render(
        AdjustmentWithApproval(**_adjustment_fields(record), approval=_approval(approval))
    )


def policy_json(on: bool) -> dict[str, Any]:
    return render(PolicyAnswer(four_eyes=on))


def void_json(key: str) -> dict[str, Any]:
    return render(VoidAnswer(idempotency_key=key, voided=True))


def _backfill(view: BackfillView) -> BackfillAnswer:
    r = view.record
    return BackfillAnswer(
        id=r.backfill_id,
        metric=r.metric,
        customers=list(r.customers) if r.customers is not None else None,
        from_=ts(r.ts_from_us),
        to=ts(r.ts_to_us),
        status=r.status,
        counting=r.status == "closed",
        note=r.note,
        events=view.events - view.voided,
        voided_events=view.voided,
        created_by=r.created_by,
        created_at=instant(r.created_us),
        close_requested_by=r.close_requested_by,
        close_requested_at=ts(r.close_requested_us),
        closed_by=r.closed_by,
        closed_at=ts(r.closed_us),
        reverted_by=r.reverted_by,
        reverted_at=ts(r.reverted_us),
        report=json.loads(r.report) if r.report else None,
        approval=_approval(view.approval),
    )


def backfill_json(view: BackfillView) -> dict[str, Any]:
    return render(_backfill(view))


def backfills_json(views: list[BackfillView]) -> dict[str, Any]:
    return render(BackfillList(data=[_backfill(v) for v in views]))


def job_json(job: RebuildJobRecord, progress: int | None = None) -> dict[str, Any]:
    """A job; while it runs, ``events`` is the live progress when the runner has one."""
    running = progress is not None and job.status == "running"
    return render(
        RebuildJobAnswer(
            id=job.job_id,
            metric=job.metric,
            customer_ref=job.customer_ref,
            status=job.status,
            events=progress if running and progress is not None else job.events,
            counters=job.counters,
            skipped=job.skipped,
            error=job.error,
            requested_by=job.requested_by,
            created_at=instant(job.created_us),
            finished_at=ts(job.finished_us),
        )
    )


Answers = dict[int | str, dict[str, Any]]
ADJUSTMENT_ANSWER: Answers = {200: response(AdjustmentAnswer, "The adjustment")}
ADJUSTMENT_CREATED: Answers = {201: response(AdjustmentAnswer, "The adjustment")}
ADJUSTMENT_LIST: Answers = {200: response(AdjustmentList, "Adjustments, oldest first")}
ADJUSTMENT_WITH_APPROVAL: Answers = {
    200: response(AdjustmentWithApproval, "The adjustment with its approval, if decided")
}
POLICY_ANSWER: Answers = {200: response(PolicyAnswer, "The tenant's corrections policy")}
VOID_ANSWER: Answers = {200: response(VoidAnswer, "The event is void")}
BACKFILL_ANSWER: Answers = {200: response(BackfillAnswer, "The session with its tallies")}
BACKFILL_CREATED: Answers = {201: response(BackfillAnswer, "The session, open")}
BACKFILL_LIST: Answers = {200: response(BackfillList, "Backfill sessions")}
REBUILD_JOB: Answers = {200: response(RebuildJobAnswer, "The job")}
REBUILD_STARTED: Answers = {
    200: response(RebuildJobAnswer, "Done within waitSeconds"),
    202: response(RebuildJobAnswer, "Still running: poll Location"),
}
