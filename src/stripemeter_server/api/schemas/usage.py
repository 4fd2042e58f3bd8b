"""Usage reads that take a body, on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import UNSET, Body, Instant, Unset, request_body, shape_of


class ProjectionQuery(Body):
    customer_ref: str
    metric: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class UsageQuery(Body):
    customer_ref: str
    metric: str | Unset | None = UNSET
    start: Instant | Unset | None = UNSET
    end: Instant | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class PeriodClose(Body):
    customer_ref: str
    metric: str
    period_start: Instant | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


PROJECTION = request_body(ProjectionQuery, examples=({"customerRef": "cus_ABC123"},))
QUERY = request_body(
    UsageQuery,
    examples=(
        {
            "customerRef": "cus_ABC123",
            "metric": "api_calls",
            "start": "2025-01-01T00:00:00Z",
            "end": "2025-02-01T00:00:00Z",
        },
    ),
)
CLOSE = request_body(
    PeriodClose,
    examples=(
        {"customerRef": "cus_ABC123", "metric": "api_calls", "periodStart": "2025-01-01T00:00:00Z"},
    ),
)
PROJECTION_SHAPE = shape_of(ProjectionQuery)
QUERY_SHAPE = shape_of(UsageQuery)
CLOSE_SHAPE = shape_of(PeriodClose)
