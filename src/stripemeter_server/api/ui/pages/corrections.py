"""Corrections: adjustments (create, revert, approve or reject in four-eyes mode), backfill
sessions (approve or reject a pending close), and counter rebuilds (the recent jobs, start one,
watch its progress), through the ``/v1`` routes' use cases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response

from stripemeter_server.api.deps import read, write
from stripemeter_server.api.schemas.corrections import adjustment_json, backfill_json, job_json
from stripemeter_server.api.serialize import parse_time_param
from stripemeter_server.api.ui.web import (
    Operator,
    UiRoute,
    back_to,
    operator,
    state_of,
    ui_tools,
    writer,
)
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections import backfills as backfill_service
from stripemeter_server.service.corrections.adjustments import create_adjustment, revert_adjustment
from stripemeter_server.service.corrections.approvals import (
    APPROVED,
    decide_adjustment,
    decide_backfill,
)
from stripemeter_server.service.corrections.commands import adjustment_command, rebuild_target
from stripemeter_server.service.corrections.rebuild_jobs import submit_rebuild
from stripemeter_server.service.dashboard import lists as dashboard_lists
from stripemeter_server.service.ports.unit_of_work import UnitOfWork

router = APIRouter(route_class=UiRoute)


def _id() -> Any:
    """A path id; one per parameter (FastAPI binds a ``Path`` object to its first name)."""
    return Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


DECISIONS = {"approve": APPROVED, "reject": "rejected"}


def _page(uow: UnitOfWork) -> dict[str, Any]:
    return {
        "adjustments": [adjustment_json(a) for a in dashboard_lists.adjustments(uow)][::-1],
        "four_eyes": dashboard_lists.four_eyes(uow),
        "backfills": [backfill_json(v) for v in backfill_service.list_backfills(uow)],
        "rebuilds": dashboard_lists.rebuild_jobs(uow),
    }


@router.get("/ui/corrections")
async def corrections_page(request: Request, who: Operator = Depends(operator)) -> Response:
    state = state_of(request)
    found = await read(state, who.who, _page)
    found["rebuilds"] = [job_json(j, state.rebuilds.progress(j.job_id)) for j in found["rebuilds"]]
    return ui_tools(request).pages.render(
        request, "corrections.html", notice=request.query_params.get("notice"), **found
    )


@router.post("/ui/corrections/adjustments")
async def create(request: Request) -> Response:
    who, form = await writer(request)
    for name in ("metric", "customerRef", "delta"):
        if not form.get(name):
            raise ValidationError(f"{name} is required", code="missing_field", field=name)
    state = state_of(request)
    now = state.ctx.clock.now()
    at = parse_time_param(form.get("periodStart") or None, "periodStart")
    record = await write(
        state,
        who.who,
        lambda uow: create_adjustment(
            uow,
            adjustment_command(
                metric=form["metric"],
                customer_ref=form["customerRef"],
                delta_raw=form["delta"],
                reason=form.get("reason") or "correction",
                note=form.get("note") or None,
                at=at,
            ),
            actor=who.who.key_id,
            now=now,
        ),
    )
    return back_to("/ui/corrections", f"Adjustment {record.adjustment_id} is {record.status}.")


@router.post("/ui/corrections/adjustments/{adjustment_id}/revert")
async def revert(request: Request, adjustment_id: str = _id()) -> Response:
    who, _ = await writer(request)
    state = state_of(request)
    now = state.ctx.clock.now()
    await write(
        state, who.who, lambda uow: revert_adjustment(uow, adjustment_id, who.who.key_id, now)
    )
    return back_to("/ui/corrections", f"Adjustment {adjustment_id} is reverted.")


@router.post("/ui/corrections/adjustments/{adjustment_id}/{decision}")
async def decide(
    request: Request, adjustment_id: str = _id(), decision: str = Path(pattern="^(approve|reject)$")
) -> Response:
    who, form = await writer(request)
    state = state_of(request)
    now = state.ctx.clock.now()
    await write(
        state,
        who.who,
        lambda uow: decide_adjustment(
            uow, adjustment_id, DECISIONS[decision], who.who.key_id, now, form.get("note") or None
        ),
    )
    return back_to("/ui/corrections", f"Adjustment {adjustment_id}: {DECISIONS[decision]}.")


@router.post("/ui/corrections/backfills/{backfill_id}/{decision}")
async def decide_close(
    request: Request, backfill_id: str = _id(), decision: str = Path(pattern="^(approve|reject)$")
) -> Response:
    """Four-eyes: another key approves (the session's events count now) or rejects a close."""
    who, form = await writer(request)
    state = state_of(request)
    now = state.ctx.clock.now()
    view = await write(
        state,
        who.who,
        lambda uow: decide_backfill(
            uow, backfill_id, DECISIONS[decision], who.who.key_id, now, form.get("note") or None
        ),
    )
    return back_to("/ui/corrections", f"Backfill {backfill_id} is {view.record.status}.")


@router.post("/ui/corrections/rebuilds")
async def rebuild(request: Request) -> Response:
    who, form = await writer(request)
    state = state_of(request)
    target = rebuild_target(form.get("metric") or None, form.get("customerRef") or None)
    now = state.ctx.clock.now()
    job = await write(state, who.who, lambda uow: submit_rebuild(uow, target, who.who.key_id, now))
    state.rebuilds.start(state.ctx, who.tenant_id, job)
    return back_to(f"/ui/corrections/rebuilds/{job.job_id}")


@router.get("/ui/corrections/rebuilds/{job_id}")
async def rebuild_page(
    request: Request, job_id: str = _id(), who: Operator = Depends(operator)
) -> Response:
    state = state_of(request)
    job = await read(state, who.who, lambda uow: dashboard_lists.rebuild_job(uow, job_id))
    return ui_tools(request).pages.render(
        request, "rebuild.html", job=job_json(job, state.rebuilds.progress(job_id))
    )
