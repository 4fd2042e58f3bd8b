"""Usage reads that take a body, and period close, on the wire: each body parsed here (with
the bounded parsers) into what its use case takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.api.serialize import parse_time_param, require_time
from stripemeter_server.api.wire import UNSET, Body, Instant, Unset, request_body, shape_of
from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import ValidationError


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


@dataclass(frozen=True, slots=True)
class CloseRequest:
    customer_ref: str
    metric: str
    at: datetime
    reason: str


def _required(body: dict[str, Any], name: str) -> str:
    raw = body.get(name)
    if not isinstance(raw, str) or not raw:
        raise ValidationError(f"{name} is required", code="missing_field", field=name)
    return check_identifier(raw, name)


def parse_projection(body: dict[str, Any]) -> tuple[str, str | None]:
    """The customer and, optionally, the one metric to project."""
    customer_ref = _required(body, "customerRef")
    metric = body.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise ValidationError("metric must be a metric code", code="invalid_metric", field="metric")
    return customer_ref, metric


def parse_query(body: dict[str, Any]) -> tuple[str, str, datetime, datetime]:
    """The customer, the metric and the window ``[start, end)``."""
    customer_ref, metric = _required(body, "customerRef"), _required(body, "metric")
    start, end = require_time(body.get("start"), "start"), require_time(body.get("end"), "end")
    return customer_ref, metric, start, end


def parse_close(body: dict[str, Any], now: datetime) -> CloseRequest:
    """The period to close: the one holding ``periodStart``, else the current one."""
    customer_ref, metric = _required(body, "customerRef"), _required(body, "metric")
    at = parse_time_param(body.get("periodStart"), "periodStart") or now
    # A close asked for over the API is always ``manual``: the body declares no reason (the
    # route drops undeclared keys), and the other reasons belong to the watermark and the
    # invoice lock, which a client must not claim.
    return CloseRequest(customer_ref, metric, at, "manual")
