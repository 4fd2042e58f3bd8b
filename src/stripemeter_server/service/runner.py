"""One use case, one transaction: the runner the API, the CLI and the workers share.

It opens the unit of work (tenant, read-only flag, actor), runs the use case and commits;
a read-only unit of work is never committed, and a use case's error rolls the transaction
back and reaches the caller unchanged. A ``RetryableConflict`` (the store aborted the
transaction to break a deadlock or a write race) runs the whole use case again from the
start, under the one retry policy below, so contention is handled the same way wherever a
use case runs. A use case passed here must therefore be safe to run again: it does its work
through the unit of work only and commits nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import stamina

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.service.ports.unit_of_work import Store, UnitOfWork

T = TypeVar("T")

# A use case: a function of one unit of work. Entry points name this, not the storage types.
UseCase = Callable[[UnitOfWork], T]

# Short and bounded: a conflict clears in milliseconds, and a caller (an HTTP client, an
# operator) is waiting; after the last attempt the conflict reaches it as a 503.
RETRY_ATTEMPTS = 5
RETRY_WAIT_INITIAL_S = 0.01
RETRY_WAIT_MAX_S = 0.5


def run_use_case(
    store: Store,
    tenant_id: str,
    use_case: UseCase[T],
    *,
    read_only: bool = False,
    actor: str | None = None,
    request_id: str | None = None,
    shared_snapshot: bool = True,
) -> T:
    """Run ``use_case`` in one transaction of ``tenant_id`` (``""``: no tenant, for
    cross-tenant work) and return its result once committed. ``actor`` is who the audit log
    names (the store's default when None); ``request_id`` ties audit rows to a request;
    ``shared_snapshot=False`` lets a read run without a transaction (``Store``)."""
    for attempt in stamina.retry_context(
        on=RetryableConflict,
        attempts=RETRY_ATTEMPTS,
        wait_initial=RETRY_WAIT_INITIAL_S,
        wait_max=RETRY_WAIT_MAX_S,
    ):
        opened = store.unit_of_work(
            tenant_id, read_only=read_only, actor=actor, shared_snapshot=shared_snapshot
        )
        with attempt, opened as uow:
            uow.request_id = request_id
            result = use_case(uow)
            if not read_only:
                uow.commit()
            return result
    raise AssertionError("unreachable")  # pragma: no cover


def read_inline(
    store: Store,
    tenant_id: str,
    use_case: UseCase[T],
    *,
    actor: str | None = None,
    request_id: str | None = None,
) -> tuple[T] | None:
    """Run a read-only use case that needs no shared snapshot on the store's unit of work
    that never waits (``Store.inline_read``, ADR 0961), in the caller's thread: its result
    as a 1-tuple, or ``None`` when it must run through ``run_use_case`` instead — the store
    has no such unit of work, or the read met a lock (``RetryableConflict``: nothing was
    written, so running it again is safe). Any other error reaches the caller."""
    opened = store.inline_read(tenant_id, actor=actor)
    if opened is None:
        return None
    try:
        with opened as uow:
            uow.request_id = request_id
            return (use_case(uow),)
    except RetryableConflict:
        return None
