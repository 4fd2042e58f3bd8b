"""Portal tokens: short-lived, revocable bearer tokens that read one customer's data.

A token is ``smp_<id>.<secret>``: the id names a server-side row (tenant, customer,
metrics, scopes, expiry, the key that minted it); the secret is random (192 bits), stored
only as its SHA-256 hash and compared in constant time, as API keys are. It carries no API
key and nothing else that authenticates: everything it may do is in its row, so revoking
it (or the key that minted it) ends it on every node at once (no cache).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import (
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.operations import audit
from stripemeter_server.service.portal.ports import PortalTokenRecord
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork

TOKEN_PREFIX = "smp_"
ID_PREFIX = "ptk_"
USAGE_READ = "usage:read"  # every token has it
ALERTS_WRITE = "alerts:write"  # set the customer's own alert thresholds
SCOPES = frozenset({USAGE_READ, ALERTS_WRITE})
MAX_EXPIRES_IN = 86_400
MIN_EXPIRES_IN = 60
DEFAULT_EXPIRES_IN = 3_600
MAX_METRICS = 50
MAX_TOKEN_LENGTH = 128
LIST_LIMIT = 500


@dataclass(frozen=True, slots=True)
class PortalGrant:
    """What an authenticated portal token may read: one customer of one tenant."""

    tenant_id: str
    token_id: str
    customer_ref: str
    metrics: frozenset[str] | None  # None: every metric
    scopes: frozenset[str]
    expires_us: int

    def allows_metric(self, code: str) -> bool:
        return self.metrics is None or code in self.metrics


@dataclass(frozen=True, slots=True)
class MintedToken:
    record: PortalTokenRecord
    token: str  # shown once, like an API key


@dataclass(frozen=True, slots=True)
class TokenRequest:
    customer_ref: str
    metrics: tuple[str, ...] | None
    scopes: frozenset[str]
    expires_in: int


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_request(
    customer_ref: object, metrics: object, scopes: object, expires_in: object
) -> TokenRequest:
    """The minting request from the values given (the edge reads them off the body), every
    one bounded; errors name the field."""
    customer = check_identifier(customer_ref, "customerRef")
    return TokenRequest(customer, _metrics(metrics), _scopes(scopes), _expires_in(expires_in))


def _metrics(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_METRICS:
        raise ValidationError(
            f"metrics must be a list of 1 to {MAX_METRICS} metric codes",
            code="invalid_metrics",
            field="metrics",
        )
    return tuple(
        sorted({check_identifier(code, "metrics", code="invalid_metrics") for code in raw})
    )


def _scopes(raw: object) -> frozenset[str]:
    if raw is None:
        return frozenset({USAGE_READ})
    if (
        not isinstance(raw, list)
        or len(raw) > len(SCOPES) * 2
        or not all(isinstance(s, str) and s in SCOPES for s in raw)
    ):
        raise ValidationError(
            "scopes must be a list of " + ", ".join(sorted(SCOPES)),
            code="invalid_scopes",
            field="scopes",
        )
    return frozenset(raw) | {USAGE_READ}


def _expires_in(raw: object) -> int:
    if raw is None:
        return DEFAULT_EXPIRES_IN
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int)
        or not (MIN_EXPIRES_IN <= raw <= MAX_EXPIRES_IN)
    ):
        raise ValidationError(
            f"expiresIn must be a whole number of seconds from {MIN_EXPIRES_IN} to "
            f"{MAX_EXPIRES_IN} (24 h)",
            code="invalid_expires_in",
            field="expiresIn",
        )
    return raw


def token_state(record: PortalTokenRecord) -> dict[str, object]:
    """A token as the audit log stores it (the API renders its own, equal, shape in
    ``api/schemas/portal.py``): never its secret nor its hash."""
    return {
        "id": record.token_id,
        "customerRef": record.customer_ref,
        "metrics": None if record.metrics is None else list(record.metrics),
        "scopes": sorted(record.scopes),
        "mintedBy": record.minted_by,
        "createdAt": _iso(record.created_us),
        "expiresAt": _iso(record.expires_us),
        "revokedAt": None if record.revoked_us is None else _iso(record.revoked_us),
    }


def _iso(us: int) -> str:
    return format_timestamp(from_micros(us))


def mint_token(
    uow: UnitOfWork, request: TokenRequest, minted_by: str, now: datetime
) -> MintedToken:
    """A new token for ``request.customer_ref``, audited under the minting key."""
    for code in request.metrics or ():
        if uow.metrics.get(code) is None:
            raise ValidationError(
                f"metric {code!r} does not exist", code="metric_not_found", field="metrics"
            )
    secret = secrets.token_urlsafe(24)
    now_us = to_micros(now)
    record = PortalTokenRecord(
        tenant_id=uow.tenant_id,
        token_id=f"{ID_PREFIX}{secrets.token_hex(10)}",
        customer_ref=request.customer_ref,
        metrics=request.metrics,
        scopes=request.scopes,
        secret_hash=_hash(secret),
        minted_by=minted_by,
        created_us=now_us,
        expires_us=now_us + request.expires_in * 1_000_000,
        revoked_us=None,
    )
    uow.portal.add_token(record)
    audit.record(
        uow, now, "portal_token.create", "portal_token", record.token_id, after=token_state(record)
    )
    return MintedToken(record, f"{TOKEN_PREFIX}{record.token_id}.{secret}")


def revoke_token(uow: UnitOfWork, token_id: str, now: datetime) -> None:
    """End one token of the unit of work's tenant at once."""
    found = uow.portal.token_with_key(token_id)
    if (
        found is None
        or found.token.tenant_id != uow.tenant_id
        or not uow.portal.revoke_token(token_id, to_micros(now))
    ):
        raise NotFoundError(
            f"no live portal token {token_id!r}", code="portal_token_not_found", field="id"
        )
    before = found.token
    audit.record(
        uow,
        now,
        "portal_token.revoke",
        "portal_token",
        token_id,
        before=token_state(before),
        after={**token_state(before), "revokedAt": _iso(to_micros(now))},
    )


def end_tokens_of_key(uow: UnitOfWork, tenant_id: str, key_id: str, now: datetime) -> None:
    """Called when an API key is revoked: every live token it minted ends with it."""
    for token_id in uow.portal.revoke_minted_by(tenant_id, key_id, to_micros(now)):
        audit.record(
            uow,
            now,
            "portal_token.revoke",
            "portal_token",
            token_id,
            after={"revokedAt": _iso(to_micros(now)), "reason": "api_key.revoke", "keyId": key_id},
            tenant_id=tenant_id,
        )


def list_tokens(uow: UnitOfWork, customer_ref: str | None) -> list[PortalTokenRecord]:
    return uow.portal.tokens(customer_ref, LIST_LIMIT)


def _split(presented: str) -> tuple[str, str]:
    if len(presented) > MAX_TOKEN_LENGTH or not presented.startswith(TOKEN_PREFIX):
        raise UnauthorizedError("invalid portal token", code="invalid_portal_token")
    token_id, dot, secret = presented[len(TOKEN_PREFIX) :].partition(".")
    if not dot or not token_id.startswith(ID_PREFIX) or not secret:
        raise UnauthorizedError("invalid portal token", code="invalid_portal_token")
    return token_id, secret


def authenticate(uow: UnitOfWork, presented: str, now: datetime) -> PortalGrant:
    """The token's grant, read on every request: expired, revoked, tampered, or minted by a
    key that no longer works → 401."""
    token_id, secret = _split(presented)
    found = uow.portal.token_with_key(token_id)
    if found is None or not hmac.compare_digest(found.token.secret_hash, _hash(secret)):
        raise UnauthorizedError("invalid portal token", code="invalid_portal_token")
    token, now_us = found.token, to_micros(now)
    if token.revoked_us is not None:
        raise UnauthorizedError("this portal token was revoked", code="revoked_portal_token")
    if token.expires_us <= now_us:
        raise UnauthorizedError("this portal token has expired", code="expired_portal_token")
    key_ended = found.key_revoked_us is not None or (
        found.key_expires_us is not None and found.key_expires_us <= now_us
    )
    if not found.key_exists or key_ended:
        raise UnauthorizedError(
            "the API key that minted this portal token no longer works", code="revoked_portal_token"
        )
    return PortalGrant(
        token.tenant_id,
        token.token_id,
        token.customer_ref,
        None if token.metrics is None else frozenset(token.metrics),
        token.scopes,
        token.expires_us,
    )


def named_tenant(uow: UnitOfWork, presented: str) -> str | None:
    """The tenant of the row a token names, valid or not: only to choose the tenant's
    ``frame-ancestors`` for the 401 page (so an embedding shows it), never to grant a read."""
    try:
        token_id, _ = _split(presented)
    except UnauthorizedError:
        return None
    found = uow.portal.token_with_key(token_id)
    return None if found is None else found.token.tenant_id


def require_scope(grant: PortalGrant, scope: str) -> None:
    if scope not in grant.scopes:
        raise ForbiddenError(f"this portal token lacks the '{scope}' scope", code="missing_scope")
