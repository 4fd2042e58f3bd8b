"""Importing history: batches of rows through the ingest use case, one transaction each.

Resumable by construction: every row carries (or is given from its content) a deterministic
idempotency key, so a re-run after a crash finds the rows already stored as duplicates. That
needs ``ts`` (or an explicit key) on every row; a row with neither is refused, because its
key would depend on the time of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.ingest.pipeline import ingest_batch
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    code: str
    message: str
    field: str | None = None


@dataclass(slots=True)
class ImportTally:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: list[Refusal] = field(default_factory=list)


def unresumable(event: dict[str, Any]) -> bool:
    return event.get("ts") is None and event.get("idempotencyKey") is None


def import_batch(
    store: Store,
    tenant_id: str,
    lines: Sequence[int],
    events: Sequence[dict[str, Any]],
    *,
    now: datetime,
    limits: EventLimits,
    actor: str,
    tally: ImportTally,
) -> None:
    """Ingest one batch (retried whole on a deadlock) and add its outcome to ``tally``."""
    outcome = run_use_case(
        store,
        tenant_id,
        lambda uow: ingest_batch(uow, list(events), now=now, limits=limits, actor=actor),
    )
    tally.lines += len(events)
    for result in outcome.results:
        if result.status == "accepted":
            tally.accepted += 1
        elif result.status == "duplicate":
            tally.duplicates += 1
        else:
            tally.refused.append(
                Refusal(
                    lines[result.index],
                    result.error_code or result.status,
                    result.error_message or "",
                    result.error_field,
                )
            )
