"""What a reconciliation run compares on one page of customers: the (customer, mapping,
period) tasks with the ledger's side of each, read in one short read-only transaction.

Periods (``domain/reconciliation_scope.py``): the run's selector, or by default the current
period and the one just ended while it is still open or its invoice still a draft. An
``invoice_items`` mapping is compared only where an invoice billed the period (its item
intent); a gate run (``invoice``) compares exactly the items of one invoice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.periods import Period, PeriodSpec
from stripemeter_server.domain.pricing import Price
from stripemeter_server.domain.reconciliation_scope import (
    PeriodSelector,
    default_periods,
    parse_period_selector,
    previous_in_scope,
    selected_periods,
)
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.catalog.definitions import load_metrics, spec_for
from stripemeter_server.service.catalog.prices import effective_prices
from stripemeter_server.service.invoicing.ports import InvoiceItemRecord
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork
from stripemeter_server.service.reconciliation.ports import UnsentPush
from stripemeter_server.service.stripe_sync.mappings import list_mappings
from stripemeter_server.service.stripe_sync.ports.pushes import PushState

LOOKBACK = timedelta(days=40)  # every period a default run compares ends after now - 40 d


@dataclass(frozen=True, slots=True)
class RunScope:
    """A run's filters, as stored (JSON) on the run."""

    metric: str | None = None
    customer_ref: str | None = None
    selector: PeriodSelector | None = None
    invoice_id: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "metric": self.metric,
                "customerRef": self.customer_ref,
                "period": None if self.selector is None else self.selector.text,
                "invoice": self.invoice_id,
            },
            sort_keys=True,
        )

    @staticmethod
    def from_json(text: str) -> RunScope:
        raw = json.loads(text)
        return RunScope(
            raw.get("metric"),
            raw.get("customerRef"),
            parse_period_selector(raw.get("period")),
            raw.get("invoice"),
        )

    def lower_bound(self, now: datetime) -> datetime:
        """Counters ending after this instant may hold a compared period."""
        if self.selector is not None and self.selector.instant is not None:
            return self.selector.instant - timedelta(days=1)
        if self.selector is not None and self.selector.month is not None:
            year, month = self.selector.month
            return datetime(year, month, 1, tzinfo=now.tzinfo) - timedelta(days=2)
        if self.invoice_id is not None:
            return from_micros(0)
        return now - LOOKBACK


def scope_of(metric: object, customer_ref: object, period: object) -> RunScope:
    """A run's filters from the values a caller gave (each optional), each through its
    bounded parser, so a refusal names the field as the API spells it."""
    return RunScope(
        metric=None if metric is None else check_identifier(metric, "metric"),
        customer_ref=None
        if customer_ref is None
        else check_identifier(customer_ref, "customerRef"),
        selector=parse_period_selector(period),
    )


@dataclass(frozen=True, slots=True)
class Task:
    """One line to compare: the ledger's side, complete."""

    customer_ref: str
    mapping: StripeMapping
    metric: Metric
    period: Period
    local: Decimal | None
    locked: bool
    state: PushState | None
    unsent: UnsentPush | None
    intent: InvoiceItemRecord | None
    invoice_status: str | None
    price: Price | None
    subscription_item: str | None = None


def in_scope_mappings(uow: UnitOfWork, scope: RunScope) -> list[tuple[StripeMapping, Metric]]:
    metrics = load_metrics(uow)
    found = []
    for mapping in list_mappings(uow):
        if scope.metric is not None and mapping.metric != scope.metric:
            continue
        if scope.invoice_id is not None and mapping.mode is not SyncMode.INVOICE_ITEMS:
            continue
        metric = metrics.get(mapping.metric)
        if metric is not None:
            found.append((mapping, metric))
    if scope.metric is not None and not found:
        raise ValidationError(
            f"metric {scope.metric!r} has no Stripe mapping",
            code="mapping_not_found",
            field="metric",
        )
    return found


def plan_page(
    uow: UnitOfWork,
    scope: RunScope,
    customers: list[str],
    pairs: list[tuple[StripeMapping, Metric]],
    now: datetime,
) -> list[Task]:
    """Every task of a page of customers (one read-only transaction)."""
    records = uow.customers.get_many(sorted(customers))
    prices = {ref: effective_prices(uow, ref) for ref in customers}
    min_end_us = to_micros(scope.lower_bound(now))
    tasks: list[Task] = []
    for mapping, metric in pairs:
        facts = uow.reconciliation.facts
        counters = facts.counters(metric.code, customers, min_end_us)
        states = uow.pushes.states(metric.code, customers)
        unsent = facts.unsent_pushes(metric.code, customers)
        intents = (
            facts.invoice_items(metric.code, customers)
            if mapping.mode is SyncMode.INVOICE_ITEMS
            else {}
        )
        statuses = facts.invoice_statuses([i.invoice_id for i in intents.values()])
        wanted: list[tuple[str, Period]] = []
        for ref in customers:
            spec = spec_for(metric, records.get(ref))
            wanted.extend(
                (ref, period)
                for period in _periods(
                    scope,
                    spec,
                    metric,
                    ref,
                    intents,
                    statuses,
                    now,
                    billed_only=mapping.mode is SyncMode.INVOICE_ITEMS,
                )
            )
        locks = uow.period_closes.find_many(
            [(metric.code, ref, to_micros(p.start)) for ref, p in wanted]
        )
        for ref, period in wanted:
            start_us = to_micros(period.start)
            lock = locks.get((metric.code, ref, start_us))
            counter = counters.get((ref, start_us))
            local = (
                lock.final_value
                if lock is not None
                else (counter.state.value(metric.aggregation) if counter is not None else None)
            )
            intent = intents.get((ref, start_us))
            item = None
            if mapping.mode is SyncMode.USAGE_RECORDS:
                record = uow.subscription_items.get(ref, metric.code)
                item = None if record is None else record.subscription_item_id
            tasks.append(
                Task(
                    ref,
                    mapping,
                    metric,
                    period,
                    local,
                    lock is not None,
                    states.get((metric.code, ref, start_us)),
                    unsent.get((ref, start_us)),
                    intent,
                    statuses.get(intent.invoice_id) if intent is not None else None,
                    prices[ref].get(metric.code),
                    item,
                )
            )
    return tasks


def _periods(
    scope: RunScope,
    spec: object,
    metric: Metric,
    ref: str,
    intents: dict[tuple[str, int], InvoiceItemRecord],
    statuses: dict[str, str],
    now: datetime,
    *,
    billed_only: bool,
) -> list[Period]:
    assert isinstance(spec, PeriodSpec)
    billed = {start: item for (who, start), item in intents.items() if who == ref}
    if scope.invoice_id is not None:
        return [
            Period(from_micros(i.period_start_us), from_micros(i.period_end_us))
            for i in billed.values()
            if i.invoice_id == scope.invoice_id
        ]
    if scope.selector is not None:
        periods = selected_periods(spec, scope.selector)
    else:
        current, previous = default_periods(spec, now)
        item = billed.get(to_micros(previous.start))
        draft = item is not None and statuses.get(item.invoice_id) == "draft"
        key_locked = item is not None  # an invoice lock closes the period it billed
        periods = [current]
        if previous_in_scope(
            previous, now, metric.lateness_window, locked=key_locked, invoice_draft=draft
        ):
            periods.insert(0, previous)
    if billed_only:
        return [p for p in periods if to_micros(p.start) in billed]
    return periods
