"""In-memory tables that belong to no one tenant: API keys, rate-limit buckets, worker
heartbeats, gauges, and the rows the portal and the dashboard find across tenants (ADR 0026).

Mirrors ``storage/catalog/definitions.py`` (keys) and ``storage/operations.py``: a key is
revoked or given a grace end once (a column set is never cleared); the key stamp counts
those and carries the tenant's rate limits; a bucket is created full on first ``lock`` and
``configure`` keeps its level; a heartbeat's upsert moves only ``beat_us``. ``lock`` reads
"the database's clock" from the store (``FakeStore.db_now_us``), which a test sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, KeyStamp
from stripemeter_server.service.dashboard.ports import SessionRecord
from stripemeter_server.service.operations.ports import BucketRow, Heartbeat
from stripemeter_server.service.portal.ports import PortalSettingsRecord, PortalTokenRecord
from tests.support.fake_repos import LedgerTables


@dataclass
class Bucket:
    rate_per_second: float | None
    burst: float | None
    tokens: float
    updated_us: int


@dataclass
class PortalTables:
    """One tenant's portal rows: settings (origins inside) and customers' alert rules."""

    settings: dict[str, PortalSettingsRecord] = field(default_factory=dict)  # "" → the one
    alert_rules: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (ref, at)


@dataclass
class SharedTables:
    """Rows looked up across tenants (a key by its hash, a token or a session by its id)."""

    api_keys: dict[tuple[str, str], ApiKeyRecord] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    heartbeats: dict[tuple[str, str], Heartbeat] = field(default_factory=dict)
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    tokens: dict[tuple[str, str], PortalTokenRecord] = field(default_factory=dict)
    portal: dict[str, PortalTables] = field(default_factory=dict)


class FakeApiKeys:
    def __init__(self, shared: SharedTables) -> None:
        self._s = shared

    def add(self, record: ApiKeyRecord) -> None:
        key = (record.tenant_id, record.key_id)
        if key in self._s.api_keys or any(
            k.key_hash == record.key_hash for k in self._s.api_keys.values()
        ):
            raise KeyError(f"duplicate key {record.key_id}")  # the primary or unique key
        self._s.api_keys[key] = record

    def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        return next((k for k in self._s.api_keys.values() if k.key_hash == key_hash), None)

    def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        keys = [k for k in self._s.api_keys.values() if tenant_id in (None, k.tenant_id)]
        return sorted(keys, key=lambda k: (k.tenant_id, k.created_us, k.key_id))

    def revoke(self, tenant_id: str, key_id: str, now_us: int) -> bool:
        kept = self._s.api_keys.get((tenant_id, key_id))
        if kept is None or kept.revoked_us is not None:
            return False
        self._s.api_keys[(tenant_id, key_id)] = replace(kept, revoked_us=now_us)
        return True

    def expire(self, tenant_id: str, key_id: str, at_us: int) -> bool:
        kept = self._s.api_keys.get((tenant_id, key_id))
        if kept is None or kept.revoked_us is not None or kept.expires_us is not None:
            return False
        self._s.api_keys[(tenant_id, key_id)] = replace(kept, expires_us=at_us)
        return True

    def stamp(self, tenant_id: str) -> KeyStamp:
        keys = [k for k in self._s.api_keys.values() if k.tenant_id == tenant_id]
        revisions = sum(k.revoked_us is not None for k in keys)
        revisions += sum(k.expires_us is not None for k in keys)
        bucket = self._s.buckets.get(tenant_id)
        if bucket is None:
            return KeyStamp(revisions, None, None)
        return KeyStamp(revisions, bucket.rate_per_second, bucket.burst)


class FakeRateLimits:
    def __init__(self, shared: SharedTables, tenant_id: str, clock: Callable[[], int]) -> None:
        self._s = shared
        self._tenant = tenant_id
        self._clock = clock

    def of(self, tenant_id: str) -> FakeRateLimits:
        return FakeRateLimits(self._s, tenant_id, self._clock)

    def settings(self) -> tuple[float | None, float | None]:
        bucket = self._s.buckets.get(self._tenant)
        return (bucket.rate_per_second, bucket.burst) if bucket else (None, None)

    def configure(self, rate: float | None, burst: float | None) -> None:
        bucket = self._s.buckets.get(self._tenant)
        if bucket is None:  # a new row starts "long ago" and empty
            self._s.buckets[self._tenant] = Bucket(rate, burst, 0.0, 0)
        else:
            bucket.rate_per_second, bucket.burst = rate, burst

    def lock(self, initial_tokens: float) -> BucketRow:
        bucket = self._s.buckets.setdefault(self._tenant, Bucket(None, None, initial_tokens, 0))
        return BucketRow(
            bucket.rate_per_second, bucket.burst, bucket.tokens, bucket.updated_us, self._clock()
        )

    def store(self, tokens: float, at_us: int) -> None:
        bucket = self._s.buckets.get(self._tenant)
        if bucket is not None:
            bucket.tokens, bucket.updated_us = tokens, at_us


class FakeHeartbeats:
    def __init__(self, shared: SharedTables) -> None:
        self._s = shared

    def beat(self, beat: Heartbeat) -> None:
        key = (beat.worker_id, beat.loop)
        kept = self._s.heartbeats.get(key)
        self._s.heartbeats[key] = beat if kept is None else replace(kept, beat_us=beat.beat_us)

    def latest(self) -> dict[str, int]:
        latest: dict[str, int] = {}
        for beat in self._s.heartbeats.values():
            latest[beat.loop] = max(latest.get(beat.loop, beat.beat_us), beat.beat_us)
        return latest

    def all(self) -> Sequence[Heartbeat]:
        return [
            self._s.heartbeats[k] for k in sorted(self._s.heartbeats, key=lambda k: (k[1], k[0]))
        ]


class FakeGauges:
    def __init__(self, ledgers: Callable[[], Iterable[LedgerTables]]) -> None:
        self._ledgers = ledgers

    def open_periods(self, now_us: int) -> int:
        return sum(
            1 for t in self._ledgers() for c in t.counters.values() if c.period_end_us > now_us
        )
