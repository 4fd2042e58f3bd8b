"""Reading Stripe's asynchronous meter error reports (v2 events) into the port's records.

Stripe answers 200 to a meter event for an unknown customer or meter and reports it later
as a v2 event: ``v1.billing.meter.error_report_triggered`` (per meter) or
``v1.billing.meter.no_meter_found``. The pusher polls them (ADR 0120). A report names up to
a sample of the refused events by identifier; the rest only count. Every field is read
defensively: a report of an unexpected shape becomes one unattributed error, never a crash.
"""

from __future__ import annotations

from typing import Any

import stripe

from stripemeter_server.service.ports.stripe import MeterErrorReport, MeterErrorSample

REPORT_TYPES = ("v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found")
PAGE = 100
MAX_REPORTS = 10_000  # per poll: bounded memory whatever the account holds
MAX_TEXT = 500
MAX_ID = 255
MAX_CODE = 64


def _text(value: Any, default: str = "") -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else default


def _ident(value: Any) -> str:
    """An id stored as a key (at most 255 printable characters), else empty (skipped)."""
    return value if isinstance(value, str) and len(value) <= MAX_ID and value.isprintable() else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _samples(error_type: dict[str, Any]) -> list[MeterErrorSample]:
    code = _text(error_type.get("code"), "meter_error")[:MAX_CODE]  # stored as a push's code
    found = []
    for sample in error_type.get("sample_errors") or []:
        if not isinstance(sample, dict):
            continue
        request = sample.get("request")
        ident = request.get("identifier") if isinstance(request, dict) else None
        found.append(
            MeterErrorSample(code, _text(sample.get("error_message"), code), _ident(ident) or None)
        )
    return found


def report_of(event: dict[str, Any]) -> MeterErrorReport:
    """One v2 event (as a plain dict) as a report."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    reason = data.get("reason") if isinstance(data.get("reason"), dict) else {}
    assert isinstance(reason, dict)
    samples: list[MeterErrorSample] = []
    for error_type in reason.get("error_types") or []:
        if isinstance(error_type, dict):
            samples += _samples(error_type)
    related = event.get("related_object")
    meter_id = related.get("id") if isinstance(related, dict) else None
    return MeterErrorReport(
        event_id=_ident(event.get("id")),
        event_type=_ident(event.get("type")),
        created=_text(event.get("created")),
        meter_id=_ident(meter_id) or None,
        error_count=max(_count(reason.get("error_count")), len(samples)),
        samples=tuple(samples),
    )


def read_reports(client: stripe.StripeClient, created_since: str | None) -> list[MeterErrorReport]:
    """Every report created at or after ``created_since`` (all retained ones when None),
    oldest first."""
    params: Any = {"types": list(REPORT_TYPES), "limit": PAGE}
    if created_since is not None:
        params["created"] = {"gte": created_since}
    reports = []
    for event in client.v2.core.events.list(params=params).auto_paging_iter():
        reports.append(report_of(event.to_dict()))
        if len(reports) >= MAX_REPORTS:
            break
    return [r for r in reversed(reports) if r.event_id]
