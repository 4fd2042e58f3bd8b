"""RebuildJobsRepository: add, get, finish, and the newest jobs first."""

from __future__ import annotations

from stripemeter_server.service.corrections.ports.rebuild_jobs import RebuildJobRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def job(job_id: str, created_us: int) -> RebuildJobRecord:
    return RebuildJobRecord(
        job_id, "calls", None, "running", 0, 0, 0, None, "key_1", created_us, None
    )


def test_a_job_reads_back_and_finishes(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.rebuild_jobs.add(job("job_1", 5))
        uow.rebuild_jobs.finish("job_1", status="done", events=7, counters=2, finished_us=9)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found, missing = uow.rebuild_jobs.get("job_1"), uow.rebuild_jobs.get("job_2")
    assert (found, missing) == (
        RebuildJobRecord("job_1", "calls", None, "done", 7, 2, 0, None, "key_1", 5, 9),
        None,
    )


def test_recent_lists_the_newest_first(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for job_id, created in (("job_b", 5), ("job_c", 9), ("job_a", 5)):
            uow.rebuild_jobs.add(job(job_id, created))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        recent = [j.job_id for j in uow.rebuild_jobs.recent(2)]
    assert recent == ["job_c", "job_b"]
