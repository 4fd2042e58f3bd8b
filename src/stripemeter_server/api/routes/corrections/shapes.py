"""The held-sessions shape usage reads carry (sessions whose events do not count yet)."""

from __future__ import annotations

from typing import Any

from stripemeter_server.service.corrections.ports.backfills import BackfillRecord


def held_json(sessions: list[BackfillRecord]) -> list[dict[str, Any]]:
    """Sessions whose events a read does not include yet (reads say so)."""
    return [{"id": s.backfill_id, "metric": s.metric, "status": s.status} for s in sessions]
