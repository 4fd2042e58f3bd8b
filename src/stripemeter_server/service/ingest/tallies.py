"""The group's answers added to the tenant's per-minute ingest tallies (the dashboard's status
counts). Written once per group, in its transaction: a retried group rolls back with its
tallies, so every event is counted once, with the answer its sender got."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ingest.outcome import (
    ACCEPTED,
    CONFLICT,
    DUPLICATE,
    REJECTED,
    Verdict,
)
from stripemeter_server.service.ingest.ports import (
    IngestTally,
    IngestUnitOfWork,
    TallyPruningUnitOfWork,
)

MINUTE_US = 60_000_000
TALLY_SLOTS = 8
# The overview shows the last hour and the last day; an hour more covers clock skew between
# nodes. Older minutes are deleted by the housekeeping worker, a bounded batch at a time.
RETENTION = timedelta(days=1, hours=1)
PRUNE_BATCH = 1000


def tally_of(verdicts: Iterable[Verdict]) -> IngestTally:
    """The group's counts by status, and its late accepted events. A group's verdicts are a
    handful of shared objects (the accepted ones prebuilt, duplicates one constant), so they
    are counted as they are, in ``Counter``'s C loop, then added up per status (ADR 0976)."""
    statuses: Counter[str] = Counter()
    late = 0
    for verdict, n in Counter(verdicts).items():
        statuses[verdict.status] += n
        if verdict.status == ACCEPTED and (verdict.late or verdict.late_after_close):
            late += n
    return IngestTally(
        statuses[ACCEPTED], statuses[DUPLICATE], statuses[CONFLICT], statuses[REJECTED], late
    )


def record_tallies(
    uow: IngestUnitOfWork, verdicts: Iterable[Verdict], now: datetime, group_id: str
) -> None:
    """One upsert for the whole group, keyed by the minute of ``now`` and a slot drawn from
    the group's id (groups running at once land on different rows)."""
    tally = tally_of(verdicts)
    if not tally.empty:
        slot = zlib.crc32(group_id.encode()) % TALLY_SLOTS
        uow.ingest_tallies.add(to_micros(now) // MINUTE_US * MINUTE_US, tally, slot)


def prune_tallies(uow: TallyPruningUnitOfWork, now: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete one batch of the unit of work's tenant's minutes older than the dashboard
    shows (``RETENTION``); the number deleted (below ``batch``: nothing more is due)."""
    cutoff = to_micros(now - RETENTION) // MINUTE_US * MINUTE_US
    return uow.ingest_tallies.prune(cutoff, batch)
