"""The use-case runner: one transaction per use case, one retry policy, one commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import pytest

from stripemeter_server.domain.errors import ConflictError, RetryableConflict
from stripemeter_server.service.runner import RETRY_ATTEMPTS, run_use_case


@dataclass
class FakeUnitOfWork:
    """Records what the runner did with it: entered, committed, rolled back."""

    tenant_id: str
    read_only: bool
    actor: str | None
    request_id: str | None = None
    committed: bool = False
    rolled_back: bool = False

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def commit(self) -> None:
        self.committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rolled_back = not self.committed


@dataclass
class FakeStore:
    opened: list[FakeUnitOfWork] = field(default_factory=list)

    def unit_of_work(
        self,
        tenant_id: str = "",
        *,
        read_only: bool = False,
        actor: str | None = None,
        shared_snapshot: bool = True,
    ) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(tenant_id, read_only, actor)
        self.opened.append(uow)
        return uow

    @property
    def commits(self) -> int:
        return sum(uow.committed for uow in self.opened)


def conflicting(times: int) -> Callable[[FakeUnitOfWork], str]:
    """A use case that loses ``times`` write races, then returns its tenant."""
    calls = []

    def use_case(uow: FakeUnitOfWork) -> str:
        calls.append(uow)
        if len(calls) <= times:
            raise RetryableConflict("deadlock detected")
        return uow.tenant_id

    return use_case


def test_a_retryable_conflict_runs_the_use_case_again_and_commits_once() -> None:
    store = FakeStore()
    result = run_use_case(store, "acme", conflicting(2))
    assert (result, len(store.opened), store.commits) == ("acme", 3, 1)


def test_a_conflict_on_every_attempt_reaches_the_caller_with_nothing_committed() -> None:
    store = FakeStore()
    with pytest.raises(RetryableConflict):
        run_use_case(store, "acme", conflicting(RETRY_ATTEMPTS))
    assert (len(store.opened), store.commits) == (RETRY_ATTEMPTS, 0)


def test_a_read_only_use_case_is_never_committed() -> None:
    store = FakeStore()
    run_use_case(store, "acme", lambda uow: uow.tenant_id, read_only=True)
    assert [(uow.read_only, uow.committed) for uow in store.opened] == [(True, False)]


def test_a_use_case_error_rolls_back_and_propagates_without_a_retry() -> None:
    store = FakeStore()

    def refuses(uow: FakeUnitOfWork) -> None:
        raise ConflictError("metric already exists")

    with pytest.raises(ConflictError, match="metric already exists"):
        run_use_case(store, "acme", refuses)
    assert [(uow.committed, uow.rolled_back) for uow in store.opened] == [(False, True)]


def test_the_unit_of_work_carries_the_tenant_actor_and_request() -> None:
    store = FakeStore()
    run_use_case(store, "acme", lambda uow: None, actor="key_1", request_id="req_9")
    uow = store.opened[0]
    assert (uow.tenant_id, uow.actor, uow.request_id) == ("acme", "key_1", "req_9")
