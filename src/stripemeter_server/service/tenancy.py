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
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.storage.catalog_repo import ApiKeyRecord, TenantRecord
from stripemeter_server.storage.unit_of_work import UnitOfWork

SCOPES = frozenset({"ingest", "read", "admin"})
KEY_PREFIX = "smk_"
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    key_id: str
    scopes: frozenset[str]


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
    return record


def parse_scopes(raw: object) -> frozenset[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValidationError("scopes must be a list", code="invalid_scopes", field="scopes")
    scopes = frozenset(str(s).strip() for s in items if str(s).strip())
    if not scopes or not scopes <= SCOPES:
        raise ValidationError(
            "scopes must be a non-empty subset of ingest, read, admin",
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


def authenticate(uow: UnitOfWork, secret: str) -> Principal:
    record = uow.api_keys.by_hash(hash_key(secret))
    if record is None or not hmac.compare_digest(record.key_hash, hash_key(secret)):
        raise UnauthorizedError("invalid API key", code="invalid_api_key")
    if record.revoked_us is not None:
        raise UnauthorizedError("this API key was revoked", code="revoked_api_key")
    return Principal(record.tenant_id, record.key_id, record.scopes)


def revoke_key(uow: UnitOfWork, tenant_id: str, key_id: str, now: datetime) -> None:
    if not uow.api_keys.revoke(tenant_id, key_id, to_micros(now)):
        raise NotFoundError(f"no active key {key_id!r}", code="key_not_found", field="keyId")


def rotate_key(uow: UnitOfWork, tenant_id: str, key_id: str, now: datetime) -> IssuedKey:
    current = next((k for k in uow.api_keys.list(tenant_id) if k.key_id == key_id), None)
    if current is None or current.revoked_us is not None:
        raise NotFoundError(f"no active key {key_id!r}", code="key_not_found", field="keyId")
    uow.api_keys.revoke(tenant_id, key_id, to_micros(now))
    return issue_key(uow, tenant_id, current.scopes, label=current.label, now=now)


def bootstrap(uow: UnitOfWork, now: datetime, secret: str | None) -> IssuedKey | None:
    """On an empty database: tenant ``default`` (autoCreateMetrics on) and one admin key."""
    if uow.tenants.count():
        return None
    create_tenant(uow, "default", name="Default tenant", auto_create_metrics=True, now=now)
    return issue_key(uow, "default", SCOPES, label="bootstrap", now=now, secret=secret)
