"""``GET /v1/usage/history``'s answer (split from ``usage_answers``, which re-exports it):
the page as its Struct, so the fast path can encode it as is (ADR 0967), and as the JSON
object the declared endpoint returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stripemeter_server.api.serialize import bound, dec, ts
from stripemeter_server.api.wire import DecimalText, Instant, StrictBody, render, response
from stripemeter_server.service.usage.reads import HistoryPoint


class HistoryBucket(StrictBody):
    start: Instant | None
    end: Instant | None
    group: str | None
    value: DecimalText | None
    event_count: int


class HistoryPage(StrictBody):
    customer_ref: str
    metric: str
    step: str
    group_by: str | None
    next_from: Instant | None
    data: list[HistoryBucket]


HISTORY_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(HistoryPage, "One page of time buckets")
}


def history_page(
    customer_ref: str,
    metric: str,
    step: str,
    group_by: str | None,
    points: list[HistoryPoint],
    next_from: datetime | None,
) -> dict[str, Any]:
    return render(history_answer(customer_ref, metric, step, group_by, points, next_from))


def history_answer(
    customer_ref: str,
    metric: str,
    step: str,
    group_by: str | None,
    points: list[HistoryPoint],
    next_from: datetime | None,
) -> HistoryPage:
    """The page as its Struct (the fast path encodes it as is, ADR 0967)."""
    data = [
        HistoryBucket(
            start=bound(p.start),
            end=bound(p.end),
            group=p.group,
            value=dec(p.value),
            event_count=p.count,
        )
        for p in points
    ]
    return HistoryPage(
        customer_ref=customer_ref,
        metric=metric,
        step=step,
        group_by=group_by,
        next_from=ts(next_from),
        data=data,
    )
