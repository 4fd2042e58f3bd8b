"""Prepaid credit grants: create (idempotent), void, list with what each has left."""

from __future__ import annotations

import secrets
from datetime import datetime

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.credit_parsing import CODE, credit_grant_to_dict
from stripemeter_server.domain.credits import CreditGrant
from stripemeter_server.domain.errors import ConflictError, NotFoundError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.credits.ports import CreditsUnitOfWork as UnitOfWork
from stripemeter_server.service.operations import audit


def new_grant_id() -> str:
    """The id a grant gets if it is new (a replay answers the first grant's)."""
    return f"cg_{secrets.token_hex(10)}"


def create_grant(uow: UnitOfWork, grant: CreditGrant, now: datetime) -> tuple[CreditGrant, bool]:
    """Store a grant (the command: parsed at the edge, ``credit_grant_from_dict`` with a
    :func:`new_grant_id`); the same ``idempotencyKey`` with the same terms answers the
    first."""
    existing = uow.credit_grants.by_idempotency_key(grant.idempotency_key)
    if existing is None and uow.credit_grants.add(grant):
        audit.record(
            uow,
            now,
            "credit_grant.create",
            "credit_grant",
            grant.grant_id,
            after=credit_grant_to_dict(grant),
        )
        return grant, True
    existing = existing or uow.credit_grants.by_idempotency_key(grant.idempotency_key)
    assert existing is not None
    if _terms(existing) != _terms(grant):
        raise ConflictError(
            "idempotencyKey was used for another credit grant",
            code="idempotency_key_reused",
            field="idempotencyKey",
        )
    return existing, False


def _terms(grant: CreditGrant) -> tuple[object, ...]:
    """What a replay must repeat (effectiveAt defaults to the request's time, so a replay
    that leaves it out matches whatever the first request resolved it to)."""
    return (
        grant.customer_ref,
        grant.amount,
        grant.denomination,
        grant.category,
        grant.priority,
        grant.expires_at,
        grant.applies_to,
    )


def get_grant(uow: UnitOfWork, customer_ref: str, grant_id: str) -> CreditGrant:
    check_identifier(customer_ref, "customerRef", code=CODE)
    found = uow.credit_grants.get(grant_id)
    if found is None or found.customer_ref != customer_ref:
        raise NotFoundError(
            f"credit grant {grant_id!r} does not exist", code="credit_grant_not_found", field="id"
        )
    return found


def void_grant(uow: UnitOfWork, customer_ref: str, grant_id: str, now: datetime) -> CreditGrant:
    """Stop the grant from now on: what it gave stays given, what it has left is gone."""
    found = get_grant(uow, customer_ref, grant_id)
    if found.voided_at is None:
        uow.credit_grants.void(grant_id, to_micros(now))
        audit.record(
            uow,
            now,
            "credit_grant.void",
            "credit_grant",
            grant_id,
            before=credit_grant_to_dict(found),
        )
    return get_grant(uow, customer_ref, grant_id)
