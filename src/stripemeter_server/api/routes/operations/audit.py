"""The audit trail (admin scope): who changed what, when, before and after."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from stripemeter_server.api.deps import AppState, app_state, check_tenant, read, require
from stripemeter_server.api.schemas import operations as operations_wire
from stripemeter_server.api.serialize import parse_time_param
from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations import audit as audit_service
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["audit"])


@router.get(
    "/v1/audit",
    responses=operations_wire.AUDIT_ANSWER,
    summary="The audit log, newest first (keyset pagination)",
)
async def audit_log(
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("admin")),
    action: str | None = Query(None, description="e.g. api_key.revoke, metric.update"),
    actor: str | None = Query(None, description="An API key id, `cli` or `system`"),
    target_type: str | None = Query(None, alias="targetType"),
    target_id: str | None = Query(None, alias="targetId"),
    ts_from: str | None = Query(None, alias="from"),
    ts_to: str | None = Query(None, alias="to"),
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    tenant_id: str | None = Query(None, alias="tenantId"),
) -> dict[str, Any]:
    check_tenant(who, tenant_id)
    start, end = parse_time_param(ts_from, "from"), parse_time_param(ts_to, "to")
    where = AuditFilter(
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        from_us=None if start is None else to_micros(start),
        to_us=None if end is None else to_micros(end),
    )
    page = await read(state, who, lambda uow: audit_service.audit_page(uow, where, cursor, limit))
    return operations_wire.audit_page(page)
