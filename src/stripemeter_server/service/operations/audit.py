"""The audit trail: who changed what, when, with the state before and after.

Use cases call :func:`record` inside their own unit of work, so an entry is committed with
the change it describes or not at all (no change without its entry, no entry for a change
that rolled back). "Who" is the unit of work's actor: the API key id of the request, ``cli``
for operator commands, ``system`` for the workers. Secrets never reach the log: callers pass
:func:`redacted` views, in which a secret is only ``"changed"`` / ``"unchanged"``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.domain.bounded import check_identifier, is_sequence, parse_sequence
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations.ports import AuditRecord
from stripemeter_server.service.operations.ports import AuditUnitOfWork as UnitOfWork

CHANGED = "changed"
UNCHANGED = "unchanged"
SET = "set"
MAX_TARGET = 512


def _json(state: Mapping[str, Any] | None) -> str | None:
    if state is None:
        return None
    return json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)


def record(
    uow: UnitOfWork,
    now: datetime,
    action: str,
    target_type: str,
    target_id: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    tenant_id: str | None = None,
) -> None:
    """Append one entry to the trail of ``tenant_id`` (default: the unit of work's tenant;
    key and tenant commands name theirs, as the CLI works outside any one tenant), in
    ``uow``'s transaction."""
    uow.audit.add(
        tenant_id or uow.tenant_id,
        entry(uow, now, action, target_type, target_id, before=before, after=after),
    )


def entry(
    uow: UnitOfWork,
    now: datetime,
    action: str,
    target_type: str,
    target_id: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """The entry ``record`` appends, for a repository that writes it with its own change
    in one statement (a reservation, ADR 0939)."""
    return AuditRecord(
        audit_id=_new_id(),
        created_us=to_micros(now),
        actor=uow.actor,
        action=action,
        target_type=target_type,
        target_id=target_id[:MAX_TARGET],
        before=_json(before),
        after=_json(after),
        request_id=uow.request_id,
    )


def _new_id() -> str:
    """Ids sort in the order they were made (the wall clock's nanoseconds, then random), so
    entries of the same microsecond still page in the order they happened."""
    return f"aud_{time.time_ns():016x}{secrets.token_hex(4)}"


def redacted(
    state: Mapping[str, Any],
    secret_fields: Iterable[str],
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``state`` with each secret field replaced: compared with ``previous``, ``"changed"``
    or ``"unchanged"``; without ``previous``, ``"set"``. An unset secret stays ``None``."""
    shown = dict(state)
    for name in secret_fields:
        value = shown.get(name)
        if value is None:
            continue
        if previous is None:
            shown[name] = SET
        else:
            shown[name] = UNCHANGED if previous.get(name) == value else CHANGED
    return shown


def decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class AuditPage:
    """One page of the trail, newest first (rendered in ``api/schemas/operations.py``)."""

    entries: list[AuditRecord]
    next_cursor: str | None
    has_more: bool


def encode_cursor(entry: AuditRecord) -> str:
    return f"{entry.created_us}.{entry.audit_id}"


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    stamp, _, audit_id = cursor.partition(".")
    if not is_sequence(stamp) or not audit_id.startswith("aud_"):
        raise ValidationError(
            "cursor is not one this API returned", code="invalid_cursor", field="cursor"
        )
    return parse_sequence(stamp, "cursor"), check_identifier(
        audit_id, "cursor", code="invalid_cursor"
    )


def audit_page(uow: UnitOfWork, where: AuditFilter, cursor: str | None, limit: int) -> AuditPage:
    """One page of the trail, newest first, with the cursor of the next page."""
    found = uow.audit.page(where, before=decode_cursor(cursor), limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return AuditPage(found, encode_cursor(found[-1]) if more and found else None, more)
