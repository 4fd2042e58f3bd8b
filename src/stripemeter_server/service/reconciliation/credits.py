"""Credit lines in reconciliation and the invoice gate (ADR 0011, ADR 0901).

A draft's credit line (``credit:{grant}``, one negative line per grant) must say what the
burn-down drew from that grant for exactly the periods the invoice bills — the same
``credit_given`` the line was planned from. A run compares the line Stripe holds (by its
``stripemeter_key``) with that amount, to the minor unit; a repair on a draft sets the
line's amount (or adds the line again from its recorded request, with the ledger's amount)
under a per-run idempotency key; a finalized invoice is never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.errors import StripeCallError, StripePermanentError
from stripemeter_server.domain.invoice_items import KEY_METADATA
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.reconciliation import (
    InvoiceLineCheck,
    LineStatus,
    absolute_drift,
    classify_invoice_line,
    invoice_money_at_stake,
    needs_attention,
    relative_drift,
)
from stripemeter_server.domain.stripe_mapping import SyncMode
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.invoicing.credit_grants import is_grant_record
from stripemeter_server.service.invoicing.credit_lines import CREDIT_PREFIX, credit_given
from stripemeter_server.service.invoicing.ports import InvoiceItemRecord
from stripemeter_server.service.ports.stripe import InvoiceStatus
from stripemeter_server.service.reconciliation.credit_grants import (
    compare_grant,
    expected_grant,
    fix_grant,
)
from stripemeter_server.service.reconciliation.plan import LOOKBACK, RunScope
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork
from stripemeter_server.service.reconciliation.reader import StripeReader

REPAIRED, REPAIR_FAILED, MANUAL = "repaired", "repair_failed", "manual"
CREDIT_NOTE, INVOICE_ITEM = "credit_note_needed", "invoice_item_needed"


@dataclass(frozen=True, slots=True)
class CreditTask:
    """One credit line to compare: the ledger's amount for it (negative minor units)."""

    customer_ref: str
    intent: InvoiceItemRecord
    expected_minor: int
    invoice_status: str | None


@dataclass(frozen=True, slots=True)
class CreditCompared:
    task: CreditTask
    line: LineRecord
    item_id: str | None


def plan_credits(
    uow: UnitOfWork, scope: RunScope, customers: list[str], now: datetime
) -> list[CreditTask]:
    """The credit lines a page compares: a gate run's invoice's, a selected period's, or
    by default those on invoices still in draft (one read-only transaction)."""
    if scope.metric is not None:
        return []  # a run for one metric compares that metric's lines only
    facts = uow.reconciliation.facts
    since = scope.lower_bound(now) if scope.selector is not None else now - LOOKBACK
    items = [
        i
        for i in facts.credit_items(customers, to_micros(since) if scope.invoice_id is None else 0)
        if scope.invoice_id is None or i.invoice_id == scope.invoice_id
    ]
    statuses = facts.invoice_statuses([i.invoice_id for i in items])
    if scope.invoice_id is None and scope.selector is None:
        items = [i for i in items if statuses.get(i.invoice_id) == "draft"]
    expected: dict[str, dict[str, int]] = {}
    tasks = []
    for item in items:
        if is_grant_record(item):
            tasks.append(
                CreditTask(
                    item.customer_ref,
                    item,
                    -expected_grant(uow, item, now),
                    statuses.get(item.invoice_id),
                )
            )
            continue
        if item.invoice_id not in expected:
            expected[item.invoice_id] = _expected(uow, item, now)
        grant = item.metric.removeprefix(CREDIT_PREFIX)
        tasks.append(
            CreditTask(
                item.customer_ref,
                item,
                -expected[item.invoice_id].get(grant, 0),
                statuses.get(item.invoice_id),
            )
        )
    return tasks


def _expected(uow: UnitOfWork, item: InvoiceItemRecord, now: datetime) -> dict[str, int]:
    if item.currency is None:
        return {}
    usage = [
        r
        for r in uow.invoice_items.for_invoices([item.invoice_id])
        if not r.metric.startswith(CREDIT_PREFIX)
    ]
    return credit_given(uow, item.customer_ref, item.currency, usage, now)


def _major(minor: object, currency: str | None) -> Decimal | None:
    if not isinstance(minor, int) or currency is None:
        return None
    return Decimal(minor).scaleb(-minor_unit_exponent(currency))


def compare_credit(task: CreditTask, reader: StripeReader) -> CreditCompared | None:
    """The credit line's comparison, or None when neither side credits anything."""
    intent = task.intent
    if is_grant_record(intent):
        grant = compare_grant(
            task.customer_ref, intent, task.expected_minor, task.invoice_status, reader
        )
        return None if grant is None else CreditCompared(task, *grant)
    try:
        lines = [
            x
            for x in reader.invoice_lines(intent.invoice_id)
            if x.metadata.get(KEY_METADATA) == intent.idempotency_key
        ]
    except StripePermanentError:
        lines = []  # the invoice is gone: no line credits the grant
    currency = intent.currency
    expected = _major(task.expected_minor, currency)
    stripe = (
        sum((_major(x.amount, currency) or Decimal(0) for x in lines), Decimal(0))
        if lines
        else None
    )
    check = InvoiceLineCheck(expected, expected, stripe, stripe)
    if not (expected or stripe):
        return None
    status = classify_invoice_line(check, Decimal(0))
    notes = [f"invoice {intent.invoice_id} ({task.invoice_status or 'unknown'})"]
    if len(lines) > 1:
        notes.append(f"{len(lines)} lines carry this credit's key")
    c = check.comparison
    line = LineRecord(
        line_no=0,
        customer_ref=task.customer_ref,
        metric=intent.metric,
        mode=SyncMode.INVOICE_ITEMS.value,
        period_start_us=intent.period_start_us,
        period_end_us=intent.period_end_us,
        local_value=expected,
        pushed_value=None,
        stripe_value=stripe,
        absolute_drift=absolute_drift(c),
        relative_drift=relative_drift(c),
        status=status.value,
        money_at_stake=invoice_money_at_stake(check),
        currency=currency,
        action=None,
        note="; ".join(notes),
        invoice_id=intent.invoice_id,
        expected_amount=expected,
        stripe_amount=stripe,
    )
    return CreditCompared(task, line, lines[0].invoice_item_id if lines else intent.stripe_item_id)


def repair_credits(
    found: list[CreditCompared], reader: StripeReader, run_id: str
) -> list[LineRecord]:
    """Each credit line with its repair action and re-checked status."""
    lines = []
    for compared in found:
        line = compared.line
        if needs_attention(line.status):
            action, note = _repair(compared, reader, run_id)
            after = None
            if action == REPAIRED:
                again = compare_credit(compared.task, reader)
                after = LineStatus.OK.value if again is None else again.line.status
            text = note if not line.note else f"{line.note}; {note}"
            line = replace(line, action=action, note=text[:2000], status_after=after)
        lines.append(line)
    return lines


def _by_hand(line: LineRecord, why: str) -> tuple[str, str]:
    money = line.money_at_stake
    amount = "" if money is None else f" {abs(money)} {line.currency or ''}".rstrip()
    if money is not None and money > 0:
        return CREDIT_NOTE, f"{why}: Stripe bills{amount} too much — issue a credit note"
    return INVOICE_ITEM, f"{why}: Stripe bills{amount} too little — bill it on the next invoice"


def _repair(found: CreditCompared, reader: StripeReader, run_id: str) -> tuple[str, str]:
    intent = found.task.intent
    invoice = reader.invoice(intent.invoice_id)
    if invoice.status is not InvoiceStatus.DRAFT:
        return _by_hand(found.line, f"invoice {intent.invoice_id} is {invoice.status.value}")
    amount = found.task.expected_minor
    key = f"{intent.idempotency_key}:repair:{run_id}"[:255]
    try:
        if is_grant_record(intent):
            return REPAIRED, fix_grant(intent, amount, reader, run_id)
        if found.item_id is not None and found.line.stripe_value is not None:
            if amount == 0:
                return MANUAL, "the ledger gives this grant nothing here: remove the line"
            item_id = found.item_id
            reader.call(lambda: reader.port.update_invoice_item(item_id, {"amount": amount}, key))
            note = f"item {item_id} corrected"
        elif intent.request is None:
            return MANUAL, "the credit line's request was not recorded: add it by hand"
        else:
            params = {**json.loads(intent.request), "amount": amount}
            created = reader.call(lambda: reader.port.create_invoice_item(params, key))
            note = f"item {created.item_id} added again"
    except StripeCallError as exc:
        return REPAIR_FAILED, exc.message
    reader.forget_invoice(intent.invoice_id)
    return REPAIRED, note
