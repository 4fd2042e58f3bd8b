"""Reconciliation runs and the invoice gate's settings on the wire."""

from __future__ import annotations

from typing import Literal

from stripemeter_server.api.wire import UNSET, StrictBody, Unset, request_body


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


RUN = request_body(RunRequest, examples=({
    "period": "2026-01", "metric": "api_calls", "customerRef": "cus_123", "repair": False},),
    required=False)
GATE = request_body(GateChange, examples=({"gate": "hold", "leadSeconds": 3600},))
