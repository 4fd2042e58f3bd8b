"""Operations on the wire: API keys and tenants, the audit log and the health probes;
answers rendered here from their records."""

from __future__ import annotations

from typing import Any, Literal

from stripemeter_server.api.schemas.stripe_sync import PushHealthView, push_health_struct
from stripemeter_server.api.serialize import ts
from stripemeter_server.api.wire import (
    UNSET,
    Body,
    Instant,
    StrictBody,
    Unset,
    render,
    request_body,
    response,
    shape_of,
)
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, TenantRecord
from stripemeter_server.service.operations import admission, audit, health, tenancy
from stripemeter_server.service.stripe_sync.pushes import PushHealth


class KeyRequest(Body):
    scopes: list[str] | Unset = UNSET
    label: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class RotateRequest(Body):
    grace_seconds: int | Unset | None = UNSET


ISSUE_KEY = request_body(KeyRequest, examples=({"scopes": ["ingest", "read"], "label": "backend"},))
ROTATE_KEY = request_body(RotateRequest, examples=({"graceSeconds": 300},), required=False)
ISSUE_KEY_SHAPE = shape_of(KeyRequest)
ROTATE_KEY_SHAPE = shape_of(RotateRequest)


class ApiKey(StrictBody):
    """An API key as the API shows it: never its secret."""

    id: str
    tenant_id: str
    prefix: str
    scopes: list[str]
    label: str | None
    created_at: Instant | None
    revoked_at: Instant | None
    expires_at: Instant | None  # a rotated key's grace end


class IssuedKey(ApiKey):
    key: str  # shown once


class RotatedKey(IssuedKey):
    replaces: str


class ApiKeyList(StrictBody):
    data: list[ApiKey]


class RevokedKey(StrictBody):
    id: str
    revoked: bool


class RateLimit(StrictBody):
    per_second: float
    burst: float
    source: Literal["tenant", "default"]


class Tenant(StrictBody):
    tenant_id: str
    name: str | None
    auto_create_metrics: bool
    created_at: Instant | None
    rate_limit: RateLimit


class TenantList(StrictBody):
    data: list[Tenant]


class AuditEntry(StrictBody):
    """One audited change; ``before`` and ``after`` are the stored JSON of the target."""

    id: str
    at: Instant
    actor: str
    action: str
    target_type: str
    target_id: str
    before: Any
    after: Any
    request_id: str | None


class AuditPage(StrictBody):
    data: list[AuditEntry]
    next_cursor: str | None
    has_more: bool


class Live(StrictBody):
    status: Literal["ok"]


class Loop(StrictBody):
    ok: bool
    last_beat: Instant | None
    age_seconds: float | None
    reason: str | Unset = UNSET


class Ready(StrictBody):
    """Readiness: each check, the failed ones, the degraded signals, each background loop
    and the pushes (``null`` when the store could not say)."""

    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, bool]
    failed: list[str]
    degraded: list[str]
    workers: dict[str, Loop] | None
    pushes: PushHealthView | None


ISSUED_ANSWER: dict[int | str, dict[str, Any]] = {
    201: response(IssuedKey, "The key (its secret shown once)")
}
ROTATED_ANSWER: dict[int | str, dict[str, Any]] = {
    201: response(RotatedKey, "The replacement (its secret shown once)")
}
KEYS_ANSWER: dict[int | str, dict[str, Any]] = {200: response(ApiKeyList, "The tenant's keys")}
REVOKED_ANSWER: dict[int | str, dict[str, Any]] = {200: response(RevokedKey, "Revoked")}
TENANTS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(TenantList, "The key's own tenant")
}
AUDIT_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(AuditPage, "One page of the audit log, newest first")
}
LIVE_ANSWER: dict[int | str, dict[str, Any]] = {200: response(Live, "The process is up")}
READY_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(Ready, "Ready (``status`` ok or degraded)"),
    503: response(Ready, "A check failed (the body says which)"),
}


def _key_fields(record: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": record.key_id,
        "tenant_id": record.tenant_id,
        "prefix": record.prefix,
        "scopes": sorted(record.scopes),
        "label": record.label,
        "created_at": ts(record.created_us),
        "revoked_at": ts(record.revoked_us),
        "expires_at": ts(record.expires_us),
    }


def key_list(found: list[ApiKeyRecord]) -> dict[str, Any]:
    return render(ApiKeyList(data=[ApiKey(**_key_fields(k)) for k in found]))


def issued_view(issued: tenancy.IssuedKey) -> dict[str, Any]:
    return render(IssuedKey(**_key_fields(issued.record), key=issued.secret))


def rotated_view(issued: tenancy.IssuedKey, replaces: str) -> dict[str, Any]:
    return render(RotatedKey(**_key_fields(issued.record), key=issued.secret, replaces=replaces))


def revoked_view(key_id: str) -> dict[str, Any]:
    return render(RevokedKey(id=key_id, revoked=True))


def tenant_list(record: TenantRecord, limit: admission.RateLimitView) -> dict[str, Any]:
    rate = RateLimit(
        per_second=limit.rate_per_second,
        burst=limit.burst,
        source=limit.source,  # type: ignore[arg-type]
    )
    tenant = Tenant(
        tenant_id=record.tenant_id,
        name=record.name,
        auto_create_metrics=record.auto_create_metrics,
        created_at=ts(record.created_us),
        rate_limit=rate,
    )
    return render(TenantList(data=[tenant]))


def audit_page(page: audit.AuditPage) -> dict[str, Any]:
    entries = [
        AuditEntry(
            id=e.audit_id,
            at=format_timestamp(from_micros(e.created_us)),
            actor=e.actor,
            action=e.action,
            target_type=e.target_type,
            target_id=e.target_id,
            before=audit.decoded(e.before),
            after=audit.decoded(e.after),
            request_id=e.request_id,
        )
        for e in page.entries
    ]
    return render(AuditPage(data=entries, next_cursor=page.next_cursor, has_more=page.has_more))


def live_view() -> dict[str, Any]:
    return render(Live(status="ok"))


def _loop(loop: health.LoopHealth) -> Loop:
    return Loop(
        ok=loop.ok,
        last_beat=None if loop.last_beat_us is None else ts(loop.last_beat_us),
        age_seconds=loop.age_seconds,
        reason=UNSET if loop.reason is None else loop.reason,
    )


def ready_view(
    status: str,
    checks: dict[str, bool],
    degraded: list[str],
    workers: dict[str, health.LoopHealth] | None,
    pushes: PushHealth | None,
) -> dict[str, Any]:
    return render(
        Ready(
            status=status,  # type: ignore[arg-type]
            checks=checks,
            failed=sorted(name for name, passed in checks.items() if not passed),
            degraded=degraded,
            workers=None if workers is None else {k: _loop(v) for k, v in workers.items()},
            pushes=None if pushes is None else push_health_struct(pushes),
        )
    )
