"""Tenants and API keys. Keys are random (192 bits), shown once, stored as SHA-256 hashes
and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.errors import (
    ConflictError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, TenantRecord
from stripemeter_server.service.operations import audit
from stripemeter_server.service.operations.ports import OperationsUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.tokens import end_tokens_of_key

SCOPES = frozenset({"ingest", "read", "admin", "portal"})  # portal: mint portal tokens
MAX_GRACE_SECONDS = 86_400  # a rotated key may keep working this long, at most
KEY_PREFIX = "smk_"
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    key_id: str
    scopes: frozenset[str]
    request_id: str | None = None  # the request it authenticated (audit log entries)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    record: ApiKeyRecord
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_tenant(
    uow: UnitOfWork, tenant_id: str, *, name: str | None, auto_create_metrics: bool, now: datetime
) -> TenantRecord:
    if not _TENANT_ID.match(tenant_id):
        raise ValidationError(
            "tenantId must be 1..255 of letters, digits, '_', '-', '.'",
            code="invalid_tenant",
            field="tenantId",
        )
    if uow.tenants.get(tenant_id) is not None:
        raise ConflictError(f"tenant {tenant_id!r} exists", code="tenant_exists", field="tenantId")
    record = TenantRecord(tenant_id, name, auto_create_metrics, to_micros(now))
    uow.tenants.add(record)
    audit.record(
        uow,
        now,
        "tenant.create",
        "tenant",
        tenant_id,
        after={"name": name, "autoCreateMetrics": auto_create_metrics},
        tenant_id=tenant_id,
    )
    return record


def parse_scopes(raw: object) -> frozenset[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValidationError("scopes must be a list", code="invalid_scopes", field="scopes")
    scopes = frozenset(str(s).strip() for s in items if str(s).strip())
    if not scopes or not scopes <= SCOPES:
        raise ValidationError(
            "scopes must be a non-empty subset of ingest, read, admin, portal",
            code="invalid_scopes",
            field="scopes",
        )
    return scopes


def issue_key(
    uow: UnitOfWork,
    tenant_id: str,
    scopes: frozenset[str],
    *,
    label: str | None,
    now: datetime,
    secret: str | None = None,
) -> IssuedKey:
    issued = _issue(uow, tenant_id, scopes, label=label, now=now, secret=secret)
    audit.record(
        uow,
        now,
        "api_key.create",
        "api_key",
        issued.record.key_id,
        after=key_state(issued.record),
        tenant_id=tenant_id,
    )
    return issued


def key_state(record: ApiKeyRecord) -> dict[str, object]:
    """A key as the audit log shows it: never the secret nor its hash."""
    return {
        "prefix": record.prefix,
        "scopes": sorted(record.scopes),
        "label": record.label,
        "revokedAt": _iso(record.revoked_us),
        "expiresAt": _iso(record.expires_us),
    }


def _iso(us: int | None) -> str | None:
    return None if us is None else format_timestamp(from_micros(us))


def _issue(
    uow: UnitOfWork,
    tenant_id: str,
    scopes: frozenset[str],
    *,
    label: str | None,
    now: datetime,
    secret: str | None = None,
) -> IssuedKey:
    if uow.tenants.get(tenant_id) is None:
        raise NotFoundError(
            f"tenant {tenant_id!r} does not exist", code="tenant_not_found", field="tenantId"
        )
    if secret is not None and len(secret) < 16:
        raise ValidationError(
            "a supplied key must be at least 16 characters", code="invalid_key", field="key"
        )
    secret = secret or KEY_PREFIX + secrets.token_urlsafe(24)
    record = ApiKeyRecord(
        tenant_id,
        f"key_{secrets.token_hex(8)}",
        hash_key(secret),
        secret[:8],
        scopes,
        label,
        to_micros(now),
        None,
    )
    uow.api_keys.add(record)
    return IssuedKey(record, secret)


def authenticate(uow: UnitOfWork, secret: str, now: datetime) -> Principal:
    """The key's principal, read from the database on every call (no cache): a revocation
    is refused by every node from the moment its transaction commits (ADR 0012)."""
    record = uow.api_keys.by_hash(hash_key(secret))
    if record is None or not hmac.compare_digest(record.key_hash, hash_key(secret)):
        raise UnauthorizedError("invalid API key", code="invalid_api_key")
    if record.revoked_us is not None:
        raise UnauthorizedError("this API key was revoked", code="revoked_api_key")
    if record.expires_us is not None and record.expires_us <= to_micros(now):
        raise UnauthorizedError(
            "this API key was rotated and its grace has ended", code="revoked_api_key"
        )
    return Principal(record.tenant_id, record.key_id, record.scopes)


def _key(uow: UnitOfWork, tenant_id: str, key_id: str) -> ApiKeyRecord | None:
    return next((k for k in uow.api_keys.list(tenant_id) if k.key_id == key_id), None)


def revoke_key(uow: UnitOfWork, tenant_id: str, key_id: str, now: datetime) -> None:
    """Revoke at once (also a rotated key still in its grace period). Any revoked key is
    refused whatever the clocks say: no node's clock skew can extend it."""
    before = _key(uow, tenant_id, key_id)
    if before is None or not uow.api_keys.revoke(tenant_id, key_id, to_micros(now)):
        raise NotFoundError(f"no active key {key_id!r}", code="key_not_found", field="keyId")
    ended = uow.dashboard_sessions.delete_for_key(tenant_id, key_id)
    after = _key(uow, tenant_id, key_id)
    assert after is not None
    audit.record(
        uow,
        now,
        "api_key.revoke",
        "api_key",
        key_id,
        before=key_state(before),
        after={**key_state(after), "dashboardSessionsEnded": ended},
        tenant_id=tenant_id,
    )
    end_tokens_of_key(uow, tenant_id, key_id, now)  # a revoked key's portal tokens end too


def parse_grace(raw: object) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_GRACE_SECONDS:
        raise ValidationError(
            f"graceSeconds must be an integer from 0 to {MAX_GRACE_SECONDS}",
            code="invalid_grace",
            field="graceSeconds",
        )
    return raw


def rotate_key(
    uow: UnitOfWork, tenant_id: str, key_id: str, now: datetime, *, grace_seconds: int = 0
) -> IssuedKey:
    """A new secret with the same scopes and label; the old one stops working at once, or
    after ``grace_seconds`` (so clients can be redeployed without a gap)."""
    current = _key(uow, tenant_id, key_id)
    if current is None or current.revoked_us is not None:
        raise NotFoundError(f"no active key {key_id!r}", code="key_not_found", field="keyId")
    if current.expires_us is not None:
        raise ConflictError(
            f"key {key_id!r} was already rotated", code="key_already_rotated", field="keyId"
        )
    if grace_seconds:
        uow.api_keys.expire(tenant_id, key_id, to_micros(now) + grace_seconds * 1_000_000)
    else:  # its dashboard sessions end with it (with a grace, they end at its expiry)
        uow.api_keys.revoke(tenant_id, key_id, to_micros(now))
        uow.dashboard_sessions.delete_for_key(tenant_id, key_id)
        end_tokens_of_key(uow, tenant_id, key_id, now)
    issued = _issue(uow, tenant_id, current.scopes, label=current.label, now=now)
    retired = _key(uow, tenant_id, key_id)
    assert retired is not None
    audit.record(
        uow,
        now,
        "api_key.rotate",
        "api_key",
        key_id,
        before=key_state(current),
        after={
            **key_state(retired),
            "replacedBy": issued.record.key_id,
            "replacement": key_state(issued.record),
        },
        tenant_id=tenant_id,
    )
    return issued


def bootstrap(
    uow: UnitOfWork, now: datetime, secret: str | None, *, auto_create_metrics: bool = False
) -> IssuedKey | None:
    """On an empty database: tenant ``default`` and one admin key. ``default`` creates no
    metric an event names unless asked to, like every tenant (a typo is refused)."""
    if uow.tenants.any_exist():
        return None
    create_tenant(
        uow, "default", name="Default tenant", auto_create_metrics=auto_create_metrics, now=now
    )
    return issue_key(uow, "default", SCOPES, label="bootstrap", now=now, secret=secret)


def list_tenants(uow: UnitOfWork) -> list[TenantRecord]:
    return uow.tenants.list()


def tenant_exists(uow: UnitOfWork, tenant_id: str) -> bool:
    return uow.tenants.get(tenant_id) is not None


def get_tenant(uow: UnitOfWork, tenant_id: str) -> TenantRecord:
    record = uow.tenants.get(tenant_id)
    if record is None:
        raise NotFoundError(f"tenant {tenant_id!r} does not exist", code="tenant_not_found")
    return record


def list_keys(uow: UnitOfWork, tenant_id: str | None) -> list[ApiKeyRecord]:
    """Every key of ``tenant_id`` (None: of every tenant), never a secret."""
    return uow.api_keys.list(tenant_id)
