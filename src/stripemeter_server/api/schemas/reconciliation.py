"""Reconciliation runs and the invoice gate's settings on the wire: the request bodies, parsed
here into the use cases' typed commands, and the answers, rendered here from their records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Literal

from stripemeter_server.api.wire import (
    UNSET,
    DecimalText,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    refuse_unknown,
    render,
    request_body,
    response,
)
from stripemeter_server.domain.csv_cells import safe_row
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.reconciliation import gate
from stripemeter_server.service.reconciliation.plan import RunScope, scope_of
from stripemeter_server.service.reconciliation.ports import (
    GateSetting,
    GateVerdict,
    LineRecord,
    RunRecord,
)
from stripemeter_server.service.reconciliation.runs import RunLines, RunPage

Gate = Literal["off", "report", "hold"]


class RunRequest(StrictBody):
    period: str | Unset | None = UNSET
    metric: str | Unset | None = UNSET
    customer_ref: str | Unset | None = UNSET
    repair: bool | Unset = UNSET
    tenant_id: str | Unset = UNSET


class GateChange(StrictBody):
    gate: Gate | Unset = UNSET
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


def parse_run_request(body: object) -> tuple[RunScope, bool]:
    """``{period?, metric?, customerRef?, repair?}``, each through a bounded parser."""
    if body is None:
        body = {}
    fields = refuse_unknown(body, RunRequest)
    repair = fields.get("repair", False)
    if not isinstance(repair, bool):
        raise ValidationError("repair must be true or false", code="invalid_field", field="repair")
    return scope_of(fields.get("metric"), fields.get("customerRef"), fields.get("period")), repair


def parse_gate_change(body: object) -> gate.GateChange:
    """``{"gate": "off|report|hold", "leadSeconds": 0..2678400}`` (each optional); every
    refusal names its field."""
    fields = refuse_unknown(body, GateChange)
    value = fields.get("gate")
    if "gate" in fields and value not in gate.GATES:
        raise ValidationError(
            "gate must be one of: off, report, hold", code="invalid_field", field="gate"
        )
    lead = fields.get("leadSeconds")
    if "leadSeconds" in fields and (
        isinstance(lead, bool)
        or not isinstance(lead, int)
        or not 0 <= lead <= gate.MAX_LEAD_SECONDS
    ):
        raise ValidationError(
            f"leadSeconds must be an integer from 0 to {gate.MAX_LEAD_SECONDS}",
            code="invalid_field",
            field="leadSeconds",
        )
    return gate.GateChange(
        str(value) if "gate" in fields else None, lead if "leadSeconds" in fields else None
    )


class GateView(StrictBody):
    gate: Gate
    lead_seconds: int


class Progress(StrictBody):
    done: int
    total: int | None


class RunView(StrictBody):
    """A run: its filters as stored, progress, and its summary once finished."""

    id: str
    trigger: str
    status: str
    repair: bool
    filters: JsonObject
    progress: Progress
    created_at: Instant | None
    started_at: Instant | None
    finished_at: Instant | None
    error: str | None
    summary: JsonObject | None


class RunLine(StrictBody):
    """One compared (customer, metric, period): both sides, the drift and what was done."""

    line_no: int
    customer_ref: str
    metric: str
    mode: str
    period_start: Instant | None
    period_end: Instant | None
    local: DecimalText | None
    pushed: DecimalText | None
    stripe: DecimalText | None
    absolute_drift: DecimalText | None
    relative_drift: DecimalText | None
    status: str
    money_at_stake: DecimalText | None
    currency: str | None
    invoice_id: str | None
    expected_amount: DecimalText | None
    stripe_amount: DecimalText | None
    action: str | None
    status_after: str | None
    note: str | None


class RunWithLines(RunView):
    lines: list[RunLine]
    next_cursor: str | None


class RunList(StrictBody):
    data: list[RunView]
    next_cursor: str | None


class Verdict(StrictBody):
    invoice_id: str
    customer_ref: str
    state: Literal["agreed", "held", "reported", "released"]
    gate: Gate
    run_id: str
    drift_lines: int
    money_at_stake: DecimalText | None
    currency: str | None
    first_seen_at: Instant | None
    updated_at: Instant | None


class VerdictList(StrictBody):
    data: list[Verdict]


GATE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(GateView, "The invoice gate and the schedule's lead")
}
RUN_ANSWER: dict[int | str, dict[str, Any]] = {202: response(RunView, "The run, queued")}
RUNS_ANSWER: dict[int | str, dict[str, Any]] = {200: response(RunList, "Runs, newest first")}
RUN_LINES_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(RunWithLines, "The run and one page of its lines")
}
VERDICTS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(VerdictList, "The gate's verdicts, newest first")
}
CSV_COLUMNS = tuple(RunLine.__struct_encode_fields__)


def _when(us: int | None) -> str | None:
    return None if us is None else format_timestamp(from_micros(us))


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else to_plain_string(value)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def gate_view(setting: GateSetting) -> dict[str, Any]:
    return render(GateView(gate=setting.gate, lead_seconds=setting.lead_seconds))  # type: ignore[arg-type]


def _run_struct(run: RunRecord) -> RunView:
    return RunView(**_run_fields(run))


def _run_fields(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "trigger": run.trigger,
        "status": run.status,
        "repair": run.repair,
        "filters": json.loads(run.filters),  # stored JSON, shown as stored
        "progress": Progress(done=run.progress_done, total=run.progress_total),
        "created_at": _when(run.created_us),
        "started_at": _when(run.started_us),
        "finished_at": _when(run.finished_us),
        "error": run.error,
        "summary": None if run.summary is None else json.loads(run.summary),
    }


def run_view(run: RunRecord) -> dict[str, Any]:
    return render(_run_struct(run))


def _line(line: LineRecord) -> RunLine:
    return RunLine(
        line_no=line.line_no,
        customer_ref=line.customer_ref,
        metric=line.metric,
        mode=line.mode,
        period_start=_when(line.period_start_us),
        period_end=_when(line.period_end_us),
        local=_dec(line.local_value),
        pushed=_dec(line.pushed_value),
        stripe=_dec(line.stripe_value),
        absolute_drift=_dec(line.absolute_drift),
        relative_drift=_dec(line.relative_drift),
        status=line.status,
        money_at_stake=_money(line.money_at_stake),
        currency=line.currency,
        invoice_id=line.invoice_id,
        expected_amount=_money(line.expected_amount),
        stripe_amount=_money(line.stripe_amount),
        action=line.action,
        status_after=line.status_after,
        note=line.note,
    )


def line_view(line: LineRecord) -> dict[str, Any]:
    return render(_line(line))


def run_with_lines(found: RunLines) -> dict[str, Any]:
    return render(
        RunWithLines(
            **_run_fields(found.run),
            lines=[_line(x) for x in found.lines],
            next_cursor=found.next_cursor,
        )
    )


def run_list(page: RunPage) -> dict[str, Any]:
    return render(RunList(data=[_run_struct(r) for r in page.runs], next_cursor=page.next_cursor))


def _verdict(verdict: GateVerdict) -> Verdict:
    return Verdict(
        invoice_id=verdict.invoice_id,
        customer_ref=verdict.customer_ref,
        state=verdict.state,  # type: ignore[arg-type]
        gate=verdict.gate,  # type: ignore[arg-type]
        run_id=verdict.run_id,
        drift_lines=verdict.drift_lines,
        money_at_stake=_money(verdict.money_at_stake),
        currency=verdict.currency,
        first_seen_at=_when(verdict.created_us),
        updated_at=_when(verdict.updated_us),
    )


def verdict_view(verdict: GateVerdict) -> dict[str, Any]:
    return render(_verdict(verdict))


def verdict_list(found: list[GateVerdict]) -> dict[str, Any]:
    return render(VerdictList(data=[_verdict(v) for v in found]))


def csv_chunks(pages: Iterable[list[LineRecord]]) -> Iterator[str]:
    """The run's lines as CSV (the columns of a line on the wire), one chunk per page; every
    cell spreadsheet-safe (``domain/csv_cells.py``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(CSV_COLUMNS))
    yield buffer.getvalue()
    for lines in pages:
        buffer.seek(0)
        buffer.truncate()
        for line in lines:
            view = line_view(line)
            writer.writerow(safe_row("" if view[c] is None else view[c] for c in CSV_COLUMNS))
        yield buffer.getvalue()
