"""The key cache's group check (ADR 0800): one stamp read per group, keys read again only
when the stamp moved, and exactly the requests of an unusable key refused."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from stripemeter_server.domain.errors import UnauthorizedError
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, KeyStamp
from stripemeter_server.service.operations.key_cache import CachedKey, KeyCache, KeyCheck
from stripemeter_server.service.operations.tenancy import hash_key

BEFORE, AFTER = KeyStamp(0, None, None), KeyStamp(1, None, None)


def _record(secret: str, **changes: Any) -> ApiKeyRecord:
    record = ApiKeyRecord(
        "t1", f"key_{secret}", hash_key(secret), secret[:8], frozenset({"ingest"}), None, 0, None
    )
    return replace(record, **changes)


@dataclass
class _Keys:
    """The two reads the check makes, counted."""

    stamp_now: KeyStamp
    records: dict[str, ApiKeyRecord]
    calls: list[str] = field(default_factory=list)

    def stamp(self, tenant_id: str) -> KeyStamp:
        self.calls.append("stamp")
        return self.stamp_now

    def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        self.calls.append("by_hash")
        return self.records.get(key_hash)


@dataclass
class _Uow:
    api_keys: _Keys


def _uow(stamp: KeyStamp, *records: ApiKeyRecord) -> _Uow:
    return _Uow(_Keys(stamp, {r.key_hash: r for r in records}))


def test_a_group_whose_stamp_did_not_move_reads_the_stamp_once_and_no_key() -> None:
    uow = _uow(BEFORE)
    checks = [KeyCheck(hash_key("secret-a"), BEFORE)] * 200
    assert KeyCache().recheck(cast(Any, uow), "t1", checks, 10) == {}
    assert uow.api_keys.calls == ["stamp"]


def test_a_moved_stamp_refuses_exactly_the_requests_of_the_revoked_key() -> None:
    kept, revoked = _record("secret-a"), _record("secret-b", revoked_us=5)
    uow = _uow(AFTER, kept, revoked)
    checks = [KeyCheck(r.key_hash, BEFORE) for r in (kept, revoked, kept, revoked)]
    refused = KeyCache().recheck(cast(Any, uow), "t1", checks, 10)
    assert sorted(refused) == [1, 3]
    assert {e.code for e in refused.values()} == {"revoked_api_key"}
    assert uow.api_keys.calls == ["stamp", "by_hash", "by_hash"]  # each key read once


def test_requests_not_admitted_from_the_cache_read_nothing() -> None:
    uow = _uow(AFTER)
    assert KeyCache().recheck(cast(Any, uow), "t1", [None, None], 10) == {}
    assert uow.api_keys.calls == []


def test_a_moved_stamp_drops_the_tenants_cached_keys() -> None:
    cache = KeyCache()
    record = _record("secret-a")
    cache.put(CachedKey(record, BEFORE))
    cache.recheck(cast(Any, _uow(AFTER, record)), "t1", [KeyCheck(record.key_hash, BEFORE)], 10)
    assert cache.get(record.key_hash) is None


def test_a_cached_key_past_its_rotation_grace_is_refused_at_admission() -> None:
    record = _record("secret-a", expires_us=100)
    cache = KeyCache()
    with pytest.raises(UnauthorizedError) as refused:
        cache.admit(CachedKey(record, BEFORE), record.key_hash, 100)
    assert refused.value.code == "revoked_api_key"
