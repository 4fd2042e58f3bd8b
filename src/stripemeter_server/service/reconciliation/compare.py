"""Comparing one task with Stripe: the Stripe side of a line, its status and money at stake.

* ``meter_events``: the meter's event summary for the Stripe customer over exactly the
  period's bounds, in pushed units, back in the metric's unit.
* ``usage_records``: the legacy usage-record summary of the subscription item's period that
  holds the period's usage timestamp.
* ``invoice_items``: the line(s) of the invoice that billed the period carrying the item's
  ``stripemeter_key``: their quantity and amount against the ledger and the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.errors import StripePermanentError, ValidationError
from stripemeter_server.domain.invoice_items import KEY_METADATA, Charge, charge_for
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.push_plan import from_units, oldest_pushable_end_s, to_units
from stripemeter_server.domain.reconciliation import (
    Comparison,
    InvoiceLineCheck,
    LineStatus,
    absolute_drift,
    classify,
    classify_invoice_line,
    invoice_money_at_stake,
    relative_drift,
    tolerance_for,
)
from stripemeter_server.domain.stripe_mapping import MeterFormula, StripeMapping, SyncMode
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.catalog.prices import cost_of
from stripemeter_server.service.ports.stripe import InvoiceLine
from stripemeter_server.service.reconciliation.plan import Task
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.reader import StripeReader
from stripemeter_server.service.stripe_sync.planner import formula_of, target_of
from stripemeter_server.service.stripe_sync.ports.pushes import PushStatus


@dataclass(frozen=True, slots=True)
class Compared:
    """A task compared: the line to store, and what a repair needs to know."""

    task: Task
    line: LineRecord
    in_flight: bool
    stripe_customer: str | None
    stripe_units: int | None
    item_id: str | None = None


def tolerance(mapping: StripeMapping) -> Decimal:
    return mapping.tolerance if mapping.tolerance is not None else tolerance_for(mapping.precision)


def _seconds(instant: datetime) -> int:
    return to_micros(instant) // MICROS


def compare(task: Task, reader: StripeReader, now: datetime) -> Compared | None:
    """The task's line, or None when neither side has anything (nothing to report)."""
    if task.mapping.mode is SyncMode.INVOICE_ITEMS:
        return _compare_invoice(task, reader)
    return _compare_pushed(task, reader, now)


def _line(
    task: Task,
    c: Comparison,
    status: LineStatus,
    money: Decimal | None,
    currency: str | None,
    note: str | None,
    **extra: Any,
) -> LineRecord:
    return LineRecord(
        line_no=0,
        customer_ref=task.customer_ref,
        metric=task.metric.code,
        mode=task.mapping.mode.value,
        period_start_us=to_micros(task.period.start),
        period_end_us=to_micros(task.period.end),
        local_value=c.local,
        pushed_value=c.pushed,
        stripe_value=c.stripe,
        absolute_drift=absolute_drift(c),
        relative_drift=relative_drift(c),
        status=status.value,
        money_at_stake=money,
        currency=currency,
        action=None,
        note=note,
        **extra,
    )


def _in_flight(task: Task, now: datetime) -> bool:
    """The difference is on its way: an unsent (pending) push, or a change the next push
    pass will plan (the counter is still inside Stripe's window)."""
    if task.unsent is not None:
        return task.unsent.status == PushStatus.PENDING
    pushable = _seconds(task.period.end) > oldest_pushable_end_s(_seconds(now))
    target = to_units(task.local, task.mapping.scale)
    pushed = task.state.pushed_units if task.state is not None else None
    return pushable and target != (pushed or 0)


def _pushed(task: Task) -> Decimal | None:
    """What Stripe was sent (the push state, less an unsent push's delta)."""
    state = task.state
    if state is None or state.pushed_units is None or state.target != target_of(task.mapping):
        return None
    units = state.pushed_units
    if task.unsent is not None and _is_sum(task):
        units = task.unsent.pushed_after - task.unsent.value
    return from_units(units, task.mapping.scale)


def _is_sum(task: Task) -> bool:
    return formula_of(task.mapping, task.metric) is MeterFormula.SUM


def _money(
    task: Task, local: Decimal | None, stripe: Decimal | None
) -> tuple[Decimal | None, str | None]:
    """What Stripe bills beyond the ledger, through the project's price (tiers respected),
    else the mapping's unit amount; None when nothing prices the metric."""
    if task.price is not None:
        billed, due = cost_of(task.price, stripe), cost_of(task.price, local)
        assert billed is not None and due is not None
        return billed.amount - due.amount, task.price.currency
    mapping = task.mapping
    if mapping.unit_amount is not None and mapping.currency is not None:
        drift = (stripe or Decimal(0)) - (local or Decimal(0))
        minor = mapping.unit_amount * drift
        return minor.scaleb(-minor_unit_exponent(mapping.currency)), mapping.currency
    return None, None


def _compare_pushed(task: Task, reader: StripeReader, now: datetime) -> Compared | None:
    mapping = task.mapping
    notes: list[str] = []
    customer = reader.customer(task.customer_ref, now)
    units: int | None = None
    if customer is None:
        notes.append("no Stripe customer for this customerRef")
    elif mapping.mode is SyncMode.METER_EVENTS:
        meter = reader.meter_id(mapping.event_name)
        if meter is None:
            notes.append(f"no active Stripe meter for event name {mapping.event_name!r}")
        else:
            total = reader.meter_total(
                meter, customer, _seconds(task.period.start), _seconds(task.period.end)
            )
            units = int(total)
    else:
        units = _usage_units(task, reader, customer, notes)
    stripe = None if units is None else from_units(units, mapping.scale)
    pushed = _pushed(task)
    if not (task.local or stripe or pushed):
        return None
    in_flight = _in_flight(task, now)
    c = Comparison(task.local, pushed, stripe, in_flight)
    status = classify(c, tolerance(mapping))
    if in_flight and task.unsent is not None and not _is_sum(task):
        status = LineStatus.PENDING  # a value on its way replaces whatever a last meter holds
    if task.unsent is not None and task.unsent.status == PushStatus.FAILED:
        notes.append(
            f"push {task.unsent.push_id} is parked as failed "
            f"({task.unsent.error_code}): fix it and retry it (/v1/pushes)"
        )
    money, currency = (
        _money(task, task.local, stripe)
        if status is not LineStatus.OK
        else (
            Decimal(0) if task.price is not None else None,
            task.price.currency if task.price is not None else None,
        )
    )
    return Compared(
        task,
        _line(task, c, status, money, currency, "; ".join(notes) or None),
        in_flight,
        customer,
        units,
    )


def _usage_units(task: Task, reader: StripeReader, customer: str, notes: list[str]) -> int | None:
    item = task.subscription_item
    if item is None and task.mapping.price is not None:
        found = reader.call(
            lambda: reader.port.find_subscription_item(customer, str(task.mapping.price))
        )
        item = None if found is None else found.item_id
    if item is None:
        notes.append("no subscription item carries the mapping's price")
        return None
    at = (
        task.state.last_ts_s
        if task.state is not None and task.state.last_ts_s
        else _seconds(task.period.start)
    )
    total = reader.usage_total(item, at)
    return None if total is None else int(total)


# --- invoice items -------------------------------------------------------------------------


def _major(minor: object, currency: str | None) -> Decimal | None:
    if not isinstance(minor, int) or currency is None:
        return None
    return Decimal(minor).scaleb(-minor_unit_exponent(currency))


def expected_charge(task: Task) -> Charge | None:
    try:
        return charge_for(task.mapping, task.price, task.local)
    except ValidationError:
        return None


def _item_lines(task: Task, reader: StripeReader) -> list[InvoiceLine]:
    assert task.intent is not None
    try:
        lines = reader.invoice_lines(task.intent.invoice_id)
    except StripePermanentError:
        return []  # the invoice is gone (deleted draft): no line bills the period
    key = task.intent.idempotency_key
    return [line for line in lines if line.metadata.get(KEY_METADATA) == key]


def _line_quantity(line: InvoiceLine, pricing: str) -> Decimal:
    if pricing == "price":  # an exact amount: quantity 1, the usage is in the metadata
        shown = line.metadata.get("stripemeter_quantity") or "0"
        return Decimal(shown) * line.quantity
    return line.quantity


def _compare_invoice(task: Task, reader: StripeReader) -> Compared | None:
    intent = task.intent
    assert intent is not None
    charge = expected_charge(task)
    currency = charge.currency if charge is not None and charge.currency else intent.currency
    lines = _item_lines(task, reader)
    pricing = charge.pricing if charge is not None else intent.pricing
    stripe_qty = sum((_line_quantity(x, pricing) for x in lines), Decimal(0)) if lines else None
    stripe_amount = (
        sum((_major(x.amount, currency) or Decimal(0) for x in lines), Decimal(0))
        if lines
        else None
    )
    expected = None if charge is None else _major(charge.amount, currency)
    quantity = None if charge is None else charge.quantity
    check = InvoiceLineCheck(
        quantity if quantity is not None else task.local, expected, stripe_qty, stripe_amount
    )
    if not (check.local or check.stripe or expected or stripe_amount):
        return None
    status = classify_invoice_line(check, tolerance(task.mapping))
    notes = [f"invoice {intent.invoice_id} ({task.invoice_status or 'unknown'})"]
    if charge is None:
        notes.append("no price: set one (/v1/prices) or the mapping's price or unitAmount")
    if len(lines) > 1:
        notes.append(f"{len(lines)} lines carry this period's key")
    line = _line(
        task,
        check.comparison,
        status,
        invoice_money_at_stake(check) if expected is not None else None,
        currency,
        "; ".join(notes),
        invoice_id=intent.invoice_id,
        expected_amount=expected,
        stripe_amount=stripe_amount,
    )
    return Compared(
        task,
        line,
        False,
        intent.stripe_customer_id,
        None,
        lines[0].invoice_item_id if lines else intent.stripe_item_id,
    )
