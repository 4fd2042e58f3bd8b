"""Repairing drift found by a run (``repair: true``), then re-checking each repaired line.

* ``meter_events`` (and ``usage_records``): a corrective push through the **same outbox** as
  every push — planned from Stripe's actual total (a ``sum`` meter gets the difference, a
  ``last`` meter and a usage record the value), with the counter's next deterministic
  identifier — then sent at once. Only while the period is open: after its close Stripe has
  built its invoice, so the line reports what to bill or credit by hand instead.
* ``invoice_items`` on a **draft**: the item is corrected (or created again if it is gone).
* a **finalized** invoice is never touched: the line says what needs a credit note (Stripe
  billed too much) or an invoice item on the next invoice (too little), with the amount.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stripemeter_server.domain.errors import StripeCallError
from stripemeter_server.domain.invoice_items import item_params
from stripemeter_server.domain.push_plan import (
    FUTURE_STEP_SECONDS,
    PushDecision,
    push_identifier,
    push_timestamp,
    to_units,
)
from stripemeter_server.domain.reconciliation import needs_attention
from stripemeter_server.domain.stripe_mapping import MeterFormula, SyncMode
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ports.stripe import InvoiceStatus
from stripemeter_server.service.reconciliation.compare import (
    Compared,
    compare,
    expected_charge,
)
from stripemeter_server.service.reconciliation.reader import StripeReader
from stripemeter_server.service.stripe_sync.leases import LeaseKeeper
from stripemeter_server.service.stripe_sync.planner import formula_of, target_of
from stripemeter_server.service.stripe_sync.ports.pushes import PENDING, PushRow, PushState
from stripemeter_server.service.stripe_sync.sender import PushPolicy, PushSender

REPAIRED, REPAIR_FAILED = "repaired", "repair_failed"
CREDIT_NOTE, INVOICE_ITEM, MANUAL = "credit_note_needed", "invoice_item_needed", "manual"


def repairable(found: Compared) -> bool:
    return needs_attention(found.line.status)


def _closed(found: Compared, now: datetime) -> bool:
    task = found.task
    return task.locked or now >= task.period.end + task.metric.lateness_window


def _by_hand(found: Compared, why: str) -> tuple[str, str]:
    money = found.line.money_at_stake
    amount = "" if money is None else f" {abs(money)} {found.line.currency or ''}".rstrip()
    if money is not None and money > 0:
        return CREDIT_NOTE, f"{why}: Stripe bills{amount} too much — issue a credit note"
    return INVOICE_ITEM, f"{why}: Stripe bills{amount} too little — bill it on the next invoice"


# --- pushed modes --------------------------------------------------------------------------


def plan_push(
    ctx: ServiceContext, tenant: str, found: Compared, now: datetime
) -> tuple[str | None, str]:
    """Write the corrective outbox row; (push id, note) or (None, why not)."""
    task = found.task
    if found.in_flight or (task.unsent is not None):
        return None, "a push of this counter is not sent yet: it must be sent (or retried) first"
    if found.stripe_units is None:
        return None, "Stripe's total could not be read (see the note)"
    formula = formula_of(task.mapping, task.metric)
    target_units = to_units(task.local, task.mapping.scale)
    value = target_units - found.stripe_units if formula is MeterFormula.SUM else target_units
    now_us, now_s = to_micros(now), to_micros(now) // MICROS
    start_s, end_s = to_micros(task.period.start) // MICROS, to_micros(task.period.end) // MICROS
    with ctx.store.unit_of_work(tenant) as uow:
        states = uow.pushes.states(task.metric.code, [task.customer_ref])
        state = states.get((task.metric.code, task.customer_ref, to_micros(task.period.start)))
        target = target_of(task.mapping)
        same = state is not None and state.target == target
        seq = state.next_seq if state is not None else 0
        timestamp = _timestamp(
            task.mapping.mode,
            formula,
            now_s,
            start_s,
            end_s,
            state.last_ts_s if same and state else None,
        )
        decision = PushDecision(value, target_units)
        after = PushState(
            task.metric.code,
            task.customer_ref,
            to_micros(task.period.start),
            to_micros(task.period.end),
            target,
            decision.pushed_units_after,
            seq + 1,
            timestamp,
        )
        if not uow.pushes.advance(state, after, now_us):
            return None, "another push of this counter was planned meanwhile: run again"
        push_id = push_identifier(
            tenant, task.metric.code, task.customer_ref, to_micros(task.period.start), seq
        )
        uow.pushes.add(_row(tenant, push_id, found, seq, decision, timestamp, now_us))
        uow.commit()
    return push_id, f"corrective push {push_id} ({value:+d} units)"


def _timestamp(
    mode: SyncMode,
    formula: MeterFormula,
    now_s: int,
    start_s: int,
    end_s: int,
    previous: int | None,
) -> int | None:
    """A ``last`` meter keeps the newest value, and the drift may be a newer event than any
    we sent: the correction goes as far ahead as the pusher ever steps (still inside the
    period and Stripe's 5-minute future limit)."""
    if mode is not SyncMode.METER_EVENTS:
        return previous  # a usage record keeps the period's one fixed timestamp
    if formula is MeterFormula.LAST:
        return push_timestamp(
            now_s + FUTURE_STEP_SECONDS, start_s, end_s, previous, strictly_after=True
        )
    return push_timestamp(now_s, start_s, end_s, previous)


def _row(
    tenant: str,
    push_id: str,
    found: Compared,
    seq: int,
    decision: PushDecision,
    timestamp: int | None,
    now_us: int,
) -> PushRow:
    task = found.task
    meter = task.mapping.mode is SyncMode.METER_EVENTS
    return PushRow(
        tenant_id=tenant,
        push_id=push_id,
        metric=task.metric.code,
        customer_ref=task.customer_ref,
        period_start_us=to_micros(task.period.start),
        period_end_us=to_micros(task.period.end),
        seq=seq,
        mode=task.mapping.mode,
        transport=task.mapping.transport,
        target=task.mapping.event_name if meter else None,
        stripe_customer_id=found.stripe_customer if meter else None,
        value=decision.value,
        pushed_after=decision.pushed_units_after,
        timestamp_s=timestamp,
        status=PENDING,
        attempts=0,
        last_error=None,
        last_error_code=None,
        next_attempt_us=now_us,
        lease_until_us=None,
        created_us=now_us,
        sent_us=None,
        updated_us=now_us,
    )


def send_pushes(
    ctx: ServiceContext, tenant: str, policy: PushPolicy, push_ids: list[str], now: datetime
) -> None:
    """Claim exactly these rows (a worker may race for them: the lease decides) and send."""
    if not push_ids:
        return
    with ctx.store.unit_of_work(tenant) as uow:
        rows = uow.pushes.claim_ids(push_ids, to_micros(now), int(policy.lease_s * MICROS))
        uow.commit()
    with LeaseKeeper(ctx.store, ctx.clock, policy.lease_s).holding(rows, to_micros(now)):
        PushSender(ctx, policy).send(rows, now)


# --- invoice items -------------------------------------------------------------------------


def repair_invoice_item(found: Compared, reader: StripeReader, run_id: str) -> tuple[str, str]:
    """(action, note) for one invoice line; only a draft is changed."""
    task = found.task
    assert task.intent is not None
    invoice = reader.invoice(task.intent.invoice_id)
    if invoice.status is not InvoiceStatus.DRAFT:
        return _by_hand(found, f"invoice {task.intent.invoice_id} is {invoice.status.value}")
    charge = expected_charge(task)
    if charge is None:
        return MANUAL, "no price for the metric: the line cannot be computed"
    key = f"{task.intent.idempotency_key}:repair:{run_id}"[:255]
    params = item_params(
        mapping=task.mapping,
        charge=charge,
        key=task.intent.idempotency_key,
        invoice_id=task.intent.invoice_id,
        stripe_customer_id=task.intent.stripe_customer_id,
        period=task.period,
    )
    try:
        if found.item_id is not None and found.line.stripe_value is not None:
            reader.call(
                lambda: reader.port.update_invoice_item(
                    str(found.item_id), _update_params(params, charge.pricing), key
                )
            )
            note = f"item {found.item_id} corrected"
        else:
            created = reader.call(lambda: reader.port.create_invoice_item(params, key))
            note = f"item {created.item_id} added again"
    except StripeCallError as exc:
        return REPAIR_FAILED, exc.message
    reader.forget_invoice(task.intent.invoice_id)
    return REPAIRED, note


def _update_params(params: dict[str, Any], pricing: str) -> dict[str, Any]:
    keep = {
        k: v
        for k, v in params.items()
        if k in ("amount", "quantity", "quantity_decimal", "unit_amount_decimal", "pricing")
    }
    if pricing == "price":
        keep["quantity"] = 1  # an exact amount is one unit of that amount
    return keep


def recheck(found: Compared, reader: StripeReader, now: datetime) -> str:
    """The line's status once the repair landed (``ok`` when nothing is left anywhere)."""
    again = compare(found.task, reader, now)
    return "ok" if again is None else again.line.status
