"""Group commit: concurrent ingest requests of a tenant share one transaction.

A commit costs about the same for one event as for thousands, and on SQLite only one writer
runs at a time anyway. Writer threads take every request waiting in the queue, process each
tenant's requests as one batch (``ingest_group``) and commit once. A request is acknowledged
only after that commit, so nothing unacknowledged is ever durable-but-unanswered in a way a
retry could double-count, and nothing acknowledged can be lost. If a group fails, its
requests are retried one by one, so one bad request cannot fail its neighbours.

Requests admitted from the process's key cache carry a :class:`KeyCheck`; the group's
transaction re-checks them once per group (``KeyCache.recheck``, ADR 0800), so a key revoked
on any node is refused here before anything of its request is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from stripemeter_server.domain.errors import UnauthorizedError, UnavailableError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_parsed, ledger_keys, parse_group
from stripemeter_server.service.operations.key_cache import KeyCache, KeyCheck
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import run_use_case

DEFAULT_MAX_GROUP_EVENTS = 5000


@dataclass(slots=True)
class _Job:
    tenant_id: str
    request: BatchRequest
    key_check: KeyCheck | None = None
    future: Future[IngestOutcome] = field(default_factory=Future)
    # ``submit_async``: the caller's event loop and its future, settled in one loop call per
    # group (one wake-up of the loop for the group, not one per request)
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[IngestOutcome] | None = None


# a job and its outcome, or the error it is answered with
_Settled = tuple[_Job, IngestOutcome | None, BaseException | None]


def _size(job: _Job) -> int:
    events = job.request.events
    return len(events) if isinstance(events, Sequence) else 1


class GroupCommitter:
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        writers: int = 1,
        max_events: int = DEFAULT_MAX_GROUP_EVENTS,
        keys: KeyCache | None = None,
    ) -> None:
        self._ctx = ctx
        self._keys = keys or KeyCache()
        self._writers = max(1, writers)
        self._max_events = max_events
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def keys(self) -> KeyCache:
        """The key cache whose admissions this committer re-checks."""
        return self._keys

    def submit(
        self, tenant_id: str, request: BatchRequest, key_check: KeyCheck | None = None
    ) -> Future[IngestOutcome]:
        """Queue a request; ``key_check`` when its key was admitted from the cache."""
        self._ensure_started()
        job = _Job(tenant_id, request, key_check)
        self._queue.put(job)
        if self._stopped:
            self._refuse_waiting()
        return job.future

    def submit_async(
        self, tenant_id: str, request: BatchRequest, key_check: KeyCheck | None = None
    ) -> asyncio.Future[IngestOutcome]:
        """``submit`` for a caller on an event loop: the outcome arrives on that loop, all
        of a group's outcomes for one loop in one ``call_soon_threadsafe``."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[IngestOutcome] = loop.create_future()
        self._ensure_started()
        self._queue.put(_Job(tenant_id, request, key_check, loop=loop, waiter=waiter))
        if self._stopped:
            self._refuse_waiting()
        return waiter

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=30)
        self._refuse_waiting()

    def _refuse_waiting(self) -> None:
        """Answer 503 to the jobs queued as the committer stopped (a submit that passed its
        check just before ``stop``): no writer will take them, and a caller must not wait
        forever. Nothing of theirs was written, so refusing them loses nothing."""
        refused: list[_Settled] = []
        ends = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                ends += 1
            else:
                refused.append((job, None, UnavailableError("the ingest committer is stopped")))
        for _ in range(ends):
            self._queue.put(None)  # a writer still finishing its group needs its end mark
        _deliver(refused)

    def _ensure_started(self) -> None:
        if len(self._threads) == self._writers and not self._stopped:
            return  # the usual case, without the lock (a stale read only takes the lock)
        with self._lock:
            if self._stopped:
                raise RuntimeError("the ingest committer is stopped")
            while len(self._threads) < self._writers:
                thread = threading.Thread(
                    target=self._write_loop, name=f"ingest-writer-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = self._gather(job)
            settled: list[_Settled] = []
            for tenant_id in dict.fromkeys(j.tenant_id for j in jobs):
                group = [j for j in jobs if j.tenant_id == tenant_id]
                settled.extend(self._commit(tenant_id, group))
            _deliver(settled)

    def _gather(self, first: _Job) -> list[_Job]:
        """The first job plus whatever else is already waiting, up to the group size."""
        jobs, size = [first], _size(first)
        while size < self._max_events:
            try:
                extra = self._queue.get_nowait()
            except queue.Empty:
                break
            if extra is None:
                self._queue.put(None)  # let this loop end after the current group
                break
            jobs.append(extra)
            size += _size(extra)
        return jobs

    def _commit(self, tenant_id: str, jobs: Sequence[_Job]) -> list[_Settled]:
        try:
            refused, outcomes = self._run(tenant_id, jobs)
        except BaseException as exc:
            if len(jobs) == 1:
                return [(jobs[0], None, exc)]
            return [done for job in jobs for done in self._commit(tenant_id, [job])]
        kept = iter(outcomes)
        return [
            (job, None, refused[n]) if n in refused else (job, next(kept), None)
            for n, job in enumerate(jobs)
        ]

    def _run(
        self, tenant_id: str, jobs: Sequence[_Job]
    ) -> tuple[dict[int, UnauthorizedError], list[IngestOutcome]]:
        requests = [j.request for j in jobs]
        group = parse_group(requests, tenant_id, self._ctx.limits)  # before the transaction
        checks = [j.key_check for j in jobs]

        def use_case(uow: UnitOfWork) -> tuple[dict[int, UnauthorizedError], list[IngestOutcome]]:
            now = self._ctx.clock.now()
            # The stamp and the ledger check first, together: one round trip with the
            # transaction's BEGIN on PostgreSQL (ADR 0969)
            head = uow.group_head(ledger_keys(group), stamp=any(c is not None for c in checks))
            refused = self._keys.recheck(uow, tenant_id, checks, to_micros(now), head.stamp)
            stored = head.fingerprints
            if not refused:
                return refused, ingest_parsed(uow, group, now=now, stored=stored)
            kept = [r for n, r in enumerate(requests) if n not in refused]  # rare: re-parse
            parsed = parse_group(kept, tenant_id, self._ctx.limits)
            return refused, ingest_parsed(uow, parsed, now=now, stored=stored) if kept else []

        return run_use_case(self._ctx.store, tenant_id, use_case)


def _deliver(settled: list[_Settled]) -> None:
    """Answer every job: thread futures at once, loop futures in one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
    for done in settled:
        job, outcome, error = done
        if job.loop is not None:
            by_loop.setdefault(job.loop, []).append(done)
        elif job.future.done():  # cancelled by its caller: setting it would raise here
            continue
        elif error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(outcome)  # type: ignore[arg-type]
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[_Settled]) -> None:
    """On the callers' loop: resolve each waiter (unless its request was cancelled)."""
    for job, outcome, error in items:
        waiter = job.waiter
        if waiter is None or waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(outcome)  # type: ignore[arg-type]
