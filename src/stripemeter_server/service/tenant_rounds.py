"""The background workers go tenant by tenant.

Every statement a worker runs on a tenant table is bound to one tenant, so the schema can be
distributed by tenant (Citus routes each statement to one shard; ``FOR UPDATE SKIP LOCKED``
across shards is not possible there). What spans tenants is only the list of tenants itself,
read from ``tenants`` (a reference table on Citus). A pass claims from one tenant after the
other until its batch is full, starting one tenant further on each pass, so one busy tenant
cannot keep the others waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case

T = TypeVar("T")


def all_tenants(store: Store) -> list[str]:
    """Every tenant id, sorted (the one cross-tenant read the workers make)."""
    return run_use_case(
        store, "", lambda uow: [t.tenant_id for t in uow.tenants.list()], read_only=True
    )


class TenantRounds:
    """Claims of one pass, one single-tenant claim per tenant, up to a batch in all."""

    def __init__(self) -> None:
        self._start = 0  # where the next pass begins in the tenant list

    def claim(
        self, tenants: Sequence[str], limit: int, claim_one: Callable[[str, int], list[T]]
    ) -> list[T]:
        """``claim_one(tenant, at_most)`` for each tenant in turn until ``limit`` are held."""
        claimed: list[T] = []
        if not tenants:
            return claimed
        first = self._start % len(tenants)
        self._start = first + 1
        for tenant in [*tenants[first:], *tenants[:first]]:
            if len(claimed) >= limit:
                break
            claimed += claim_one(tenant, limit - len(claimed))
        return claimed
