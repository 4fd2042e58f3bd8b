"""The invoice gate: a draft invoice whose usage lines disagree with the ledger does not
finalize (``hold``), or is at least reported (``report``), and an alert goes out through the
alert rules of type ``reconciliation``; once repaired, a held invoice is released.

The gate judges every draft invoice a run compares — the run started by ``invoice.created``
(after the flow's items are in place) and any later run, scheduled or by hand — so drift that
appears while the invoice waits is caught too. A verdict per invoice is stored
(``agreed | held | reported | released``) and shown in the run history.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.alerts import AlertKind, rule_from_dict
from stripemeter_server.domain.errors import StripeCallError
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ports.stripe import InvoiceStatus
from stripemeter_server.service.reconciliation.ports import GateSetting, GateVerdict
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork
from stripemeter_server.service.reconciliation.reader import StripeReader

OFF, REPORT, HOLD = "off", "report", "hold"
GATES = (OFF, REPORT, HOLD)
AGREED, HELD, REPORTED, RELEASED = "agreed", "held", "reported", "released"
DEFAULT_GATE = REPORT
DEFAULT_LEAD_SECONDS = 3600
MAX_LEAD_SECONDS = 31 * 86400


def gate_setting(uow: UnitOfWork, default_lead_seconds: int = DEFAULT_LEAD_SECONDS) -> GateSetting:
    found = uow.reconciliation.gate()
    return found or GateSetting(DEFAULT_GATE, default_lead_seconds)


@dataclass(frozen=True)
class GateChange:
    """A change of the invoice gate (parsed at the edge); ``None`` keeps the current value."""

    gate: str | None = None
    lead_seconds: int | None = None


def put_gate_setting(
    uow: UnitOfWork,
    change: GateChange,
    now: datetime,
    default_lead_seconds: int = DEFAULT_LEAD_SECONDS,
) -> GateSetting:
    """Apply a parsed change over the current setting (or the defaults)."""
    current = gate_setting(uow, default_lead_seconds)
    setting = GateSetting(
        current.gate if change.gate is None else change.gate,
        current.lead_seconds if change.lead_seconds is None else change.lead_seconds,
    )
    uow.reconciliation.put_gate(setting, to_micros(now))
    return setting


@dataclass
class InvoiceTally:
    """What a run saw of one draft invoice (a few numbers, not its lines)."""

    customer_ref: str
    period_start_us: int
    period_end_us: int
    unresolved: int = 0
    money: Decimal | None = None
    currency: str | None = None
    metrics: frozenset[str] = frozenset()

    def add(
        self, metric: str, unresolved: bool, money: Decimal | None, currency: str | None
    ) -> None:
        if not unresolved:
            return
        self.unresolved += 1
        self.metrics = self.metrics | {metric}
        if money is not None:
            self.money = money if self.money is None else self.money + money
            self.currency = currency


def judge(
    ctx: ServiceContext,
    tenant: str,
    run_id: str,
    reader: StripeReader,
    invoices: dict[str, InvoiceTally],
    now: datetime,
) -> list[GateVerdict]:
    """Hold, report, release or pass each draft invoice the run compared."""
    with ctx.store.unit_of_work(tenant, read_only=True) as uow:
        gate = gate_setting(uow).gate
        before = {i: uow.reconciliation.verdict(i) for i in invoices}
    if gate == OFF:
        return []
    verdicts = []
    for invoice_id, tally in invoices.items():
        previous = before[invoice_id]
        state = _decide(gate, tally, previous)
        if state in (HELD, RELEASED) and not _set_auto_advance(
            reader, invoice_id, run_id, advance=state == RELEASED
        ):
            state = REPORTED if state == HELD else AGREED  # no longer a draft: nothing to hold
        now_us = to_micros(now)
        verdict = GateVerdict(
            invoice_id,
            tally.customer_ref,
            state,
            gate,
            run_id,
            tally.unresolved,
            tally.money,
            tally.currency,
            previous.created_us if previous else now_us,
            now_us,
        )
        with ctx.store.unit_of_work(tenant) as uow:
            uow.reconciliation.put_verdict(verdict)
            if state in (HELD, REPORTED) and (
                previous is None or previous.state not in (HELD, REPORTED)
            ):
                _alert(uow, verdict, tally, now)
            uow.commit()
        verdicts.append(verdict)
    return verdicts


def _decide(gate: str, tally: InvoiceTally, previous: GateVerdict | None) -> str:
    if tally.unresolved:
        return HELD if gate == HOLD else REPORTED
    if previous is not None and previous.state == HELD:
        return RELEASED
    if previous is not None and previous.state == RELEASED:
        return RELEASED
    return AGREED


def _set_auto_advance(reader: StripeReader, invoice_id: str, run_id: str, *, advance: bool) -> bool:
    """Hold (``auto_advance=false``) or release a draft; False when it is not a draft."""
    try:
        invoice = reader.call(lambda: reader.port.get_invoice(invoice_id))
        if invoice.status is not InvoiceStatus.DRAFT:
            return False
        if invoice.auto_advance != advance:
            key = f"stripemeter:gate:{invoice_id}:{run_id}:{'release' if advance else 'hold'}"
            reader.call(
                lambda: reader.port.set_invoice_auto_advance(invoice_id, advance, key[:255])
            )
    except StripeCallError:
        return False
    reader.forget_invoice(invoice_id)
    return True


def _alert(uow: UnitOfWork, verdict: GateVerdict, tally: InvoiceTally, now: datetime) -> None:
    """Fire every enabled ``reconciliation`` rule that watches the customer (and a metric
    that drifted) — once per rule, customer and invoice period — and queue its webhook."""
    for record in uow.alerts.rules():
        rule = rule_from_dict(json.loads(record.definition))
        if not rule.enabled or rule.kind is not AlertKind.RECONCILIATION:
            continue
        if not any(rule.watches(m, verdict.customer_ref) for m in tally.metrics):
            continue
        if rule.threshold and abs(verdict.money_at_stake or Decimal(0)) < rule.threshold:
            continue
        event_id = f"alev_{uuid.uuid4().hex[:24]}"
        payload = {
            "id": event_id,
            "type": "alert.triggered",
            "tenantId": uow.tenant_id,
            "ruleId": record.rule_id,
            "ruleName": rule.name,
            "kind": rule.kind.value,
            "metric": rule.metric,
            "customerRef": verdict.customer_ref,
            "periodStart": format_timestamp(from_micros(tally.period_start_us)),
            "periodEnd": format_timestamp(from_micros(tally.period_end_us)),
            "invoiceId": verdict.invoice_id,
            "gate": verdict.gate,
            "state": verdict.state,
            "driftLines": verdict.drift_lines,
            "runId": verdict.run_id,
            "moneyAtStake": None
            if verdict.money_at_stake is None
            else format(verdict.money_at_stake, "f"),
            "currency": verdict.currency,
            "threshold": format(rule.threshold, "f"),
            "value": format(abs(verdict.money_at_stake or Decimal(0)), "f"),
            "triggeredAt": format_timestamp(now),
        }
        event = uow.alerts.fire(
            event_id=event_id,
            rule_id=record.rule_id,
            customer_ref=verdict.customer_ref,
            metric=rule.metric,
            period_start_us=tally.period_start_us,
            period_end_us=tally.period_end_us,
            payload=json.dumps(payload, separators=(",", ":")),
            now_us=to_micros(now),
        )
        if event is not None and record.webhook_url is not None:
            uow.alerts.enqueue(
                delivery_id=f"dlv_{uuid.uuid4().hex[:24]}",
                event_seq=event.seq,
                rule_id=record.rule_id,
                url=record.webhook_url,
                now_us=to_micros(now),
            )
