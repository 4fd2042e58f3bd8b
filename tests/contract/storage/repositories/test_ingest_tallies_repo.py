"""IngestTalliesRepository: per-minute sums across slots, and pruning of whole minutes."""

from __future__ import annotations

from stripemeter_server.service.ingest.ports import IngestTally
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

MINUTE = 60_000_000


def test_sums_add_up_every_slot_since_a_minute(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.ingest_tallies.add(MINUTE, IngestTally(accepted=2, late=1), 0)
        uow.ingest_tallies.add(MINUTE, IngestTally(accepted=1, rejected=4), 3)
        uow.ingest_tallies.add(2 * MINUTE, IngestTally(duplicates=5), 0)
        uow.ingest_tallies.add(2 * MINUTE, IngestTally(conflicts=1), 0)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        everything, recent = uow.ingest_tallies.sums(0), uow.ingest_tallies.sums(2 * MINUTE)
    assert (everything, recent) == (IngestTally(3, 5, 1, 4, 1), IngestTally(0, 5, 1, 0, 0))


def test_prune_deletes_the_oldest_whole_minutes(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for minute in (1, 2, 3):
            for slot in (0, 1):
                uow.ingest_tallies.add(minute * MINUTE, IngestTally(accepted=minute), slot)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        deleted = uow.ingest_tallies.prune(3 * MINUTE, 1)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        left = uow.ingest_tallies.sums(0)
    assert (deleted, left.accepted) == (2, 2 * 2 + 3 * 2)
