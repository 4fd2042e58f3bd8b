"""Operations: the audit log, rate-limit buckets, worker heartbeats, gauges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.domain.queries import AuditFilter


@dataclass(frozen=True, slots=True)
class AuditRecord:
    audit_id: str
    created_us: int
    actor: str
    action: str
    target_type: str
    target_id: str
    before: str | None
    after: str | None
    request_id: str | None




@dataclass(frozen=True, slots=True)
class BucketRow:
    rate_per_second: float | None
    burst: float | None
    tokens: float
    updated_us: int
    now_us: int  # the database's clock on PostgreSQL (one clock for every node)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    worker_id: str
    loop: str
    host: str
    pid: int
    started_us: int
    beat_us: int


class AuditRepository(Protocol):
    def add(self, tenant_id: str, record: AuditRecord) -> None: ...

    def page(
        self, where: AuditFilter, *, before: tuple[int, str] | None, limit: int
    ) -> list[AuditRecord]: ...


class RateLimitRepository(Protocol):
    def of(self, tenant_id: str) -> RateLimitRepository: ...

    def settings(self) -> tuple[float | None, float | None]: ...

    def configure(self, rate: float | None, burst: float | None) -> None: ...

    def lock(self, initial_tokens: float) -> BucketRow: ...

    def store(self, tokens: float, at_us: int) -> None: ...


class HeartbeatRepository(Protocol):
    def beat(self, beat: Heartbeat) -> None: ...

    def latest(self) -> dict[str, int]: ...

    def all(self) -> Sequence[Heartbeat]: ...


class GaugesRepository(Protocol):
    def open_periods(self, now_us: int) -> int: ...
