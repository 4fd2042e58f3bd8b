"""Readiness of the background loops, from their heartbeats (``workers/heartbeat.py``).

A loop is healthy when its freshest beat — over every process that runs it — is younger than
the stale limit. Loops that must run (``STRIPEMETER_READY_WORKERS``, and the loops a
``serve --with-worker`` started itself) fail readiness when they never beat; any loop that
has beaten before fails it when it stops (its worker died or hangs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.operations.ports import OperationsUnitOfWork as UnitOfWork


def parse_loops(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


@dataclass(frozen=True)
class LoopHealth:
    """One background loop: healthy or not, its freshest beat and its age, and why not."""

    ok: bool
    last_beat_us: int | None
    age_seconds: float | None  # rounded to the millisecond
    reason: str | None = None


def worker_health(
    uow: UnitOfWork, now: datetime, required: Iterable[str], stale_seconds: float
) -> tuple[bool, dict[str, LoopHealth]]:
    """Whether every known or required loop beat recently, and each loop's state."""
    latest = uow.heartbeats.latest()
    now_us = to_micros(now)
    loops: dict[str, LoopHealth] = {}
    for name in sorted(set(latest) | set(required)):
        beat = latest.get(name)
        if beat is None:
            loops[name] = LoopHealth(False, None, None, "required but never beat")
            continue
        age = max(0.0, (now_us - beat) / MICROS)
        ok = age <= stale_seconds
        why = None if ok else f"no beat for {age:.0f} s (limit {stale_seconds:.0f} s)"
        loops[name] = LoopHealth(ok, beat, round(age, 3), why)
    return all(loop.ok for loop in loops.values()), loops


def open_periods_and_beats(uow: UnitOfWork, now: datetime) -> tuple[int, dict[str, int]]:
    """For ``/metrics``: billing periods still in progress (all tenants) and each loop's
    freshest heartbeat (µs)."""
    return uow.gauges.open_periods(to_micros(now)), uow.heartbeats.latest()
