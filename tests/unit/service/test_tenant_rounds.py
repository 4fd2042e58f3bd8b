"""A worker pass claims tenant by tenant, up to its batch, starting one tenant on each pass."""

from __future__ import annotations

from collections.abc import Callable

from stripemeter_server.service.tenant_rounds import TenantRounds

QUEUED = {"a": [1, 2, 3], "b": [4], "c": [5, 6]}


def _claim(asked: list[tuple[str, int]]) -> Callable[[str, int], list[int]]:
    def claim_one(tenant: str, most: int) -> list[int]:
        asked.append((tenant, most))
        return QUEUED[tenant][:most]

    return claim_one


def test_a_pass_asks_each_tenant_for_what_the_batch_still_lacks() -> None:
    asked: list[tuple[str, int]] = []
    assert TenantRounds().claim(["a", "b", "c"], 5, _claim(asked)) == [1, 2, 3, 4, 5]
    assert asked == [("a", 5), ("b", 2), ("c", 1)]


def test_the_next_pass_starts_from_the_next_tenant() -> None:
    rounds = TenantRounds()
    rounds.claim(["a", "b", "c"], 1, _claim([]))
    asked: list[tuple[str, int]] = []
    assert rounds.claim(["a", "b", "c"], 1, _claim(asked)) == [4]
    assert asked == [("b", 1)]


def test_no_tenants_claim_nothing() -> None:
    assert TenantRounds().claim([], 5, _claim([])) == []
