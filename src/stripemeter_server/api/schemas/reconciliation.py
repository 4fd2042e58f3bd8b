"""Reconciliation runs and the invoice gate's settings on the wire."""

from __future__ import annotations

from typing import Any, Literal

from stripemeter_server.api.wire import UNSET, StrictBody, Unset, request_body, response


class RunRequest(StrictBody):
    period: str | Unset | None = UNSET
    metric: str | Unset | None = UNSET
    customer_ref: str | Unset | None = UNSET
    repair: bool | Unset = UNSET
    tenant_id: str | Unset = UNSET


class GateChange(StrictBody):
    gate: Literal["off", "report", "hold"] | Unset = UNSET
    lead_seconds: int | Unset = UNSET
    tenant_id: str | Unset = UNSET


RUN = request_body(
    RunRequest,
    examples=(
        {"period": "2026-01", "metric": "api_calls", "customerRef": "cus_123", "repair": False},
    ),
    required=False,
)
GATE = request_body(GateChange, examples=({"gate": "hold", "leadSeconds": 3600},))


class GateView(StrictBody):
    gate: Literal["off", "report", "hold"]
    lead_seconds: int


GATE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(GateView, "The invoice gate and the schedule's lead")
}
