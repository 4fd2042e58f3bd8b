"""Alert evaluation, which runs inside the writing transaction.

``evaluate_alerts`` is called by ingest and by adjustments with the counters they changed,
so an alert event is stored atomically with the usage that crossed the threshold: no
polling loop, no window in which usage is visible but its alert is not. Fire-once is the
database's unique key (see ``storage/alerts_repo.py``); evaluation checks first only to
avoid spending sequence numbers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.alerts import AlertKind, AlertRule, Recurrence
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.pricing import Price
from stripemeter_server.domain.timestamps import format_timestamp, from_micros, to_micros
from stripemeter_server.service.alerts.ports import AlertEventRecord, AlertRuleRecord
from stripemeter_server.service.alerts.rules import decode_rule
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.catalog.prices import cost_of, effective_prices
from stripemeter_server.service.credits.alerts import low_balances
from stripemeter_server.service.entitlements.alerts import crossings
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter

EVENT_TYPE = "alert.triggered"

__all__ = ["EVENT_TYPE", "evaluate_alerts"]


@dataclass(slots=True)
class _Evaluation:
    """Per-call caches: one evaluation reads each customer's prices and counters once."""

    uow: IngestUnitOfWork
    prices: dict[str, dict[str, Price]]
    counters: dict[CounterKey, StoredCounter | None]

    def price_map(self, customer_ref: str) -> dict[str, Price]:
        if customer_ref not in self.prices:
            self.prices[customer_ref] = effective_prices(self.uow, customer_ref)
        return self.prices[customer_ref]

    def counter(self, key: CounterKey) -> StoredCounter | None:
        if key not in self.counters:
            self.counters[key] = self.uow.counters.get(key)
        return self.counters[key]


def _observed(
    ev: _Evaluation, rule: AlertRule, key: CounterKey, aggregations: Mapping[str, Any]
) -> tuple[Decimal | None, str | None]:
    """The watched value for the rule at the counter ``key`` (and its currency if spend)."""
    metric, customer_ref, period_start_us = key
    if rule.kind is AlertKind.QUANTITY:
        counter = ev.counter(key)
        return (counter.state.value(aggregations[metric]) if counter else None), None
    prices = ev.price_map(customer_ref)
    codes = [rule.metric] if rule.metric is not None else sorted(prices)
    total: Decimal | None = None
    currency = rule.currency
    for code in codes:
        price = prices.get(code)
        if code not in aggregations or price is None:
            continue
        if currency is not None and price.currency != currency:
            continue
        currency = price.currency
        counter = ev.counter((code, customer_ref, period_start_us))
        cost = cost_of(price, counter.state.value(aggregations[code]) if counter else None)
        assert cost is not None
        total = cost.amount if total is None else total + cost.amount
    return total, currency


def evaluate_alerts(
    uow: IngestUnitOfWork, touched_counter_keys: Iterable[CounterKey], now: datetime
) -> list[AlertEventRecord]:
    """Fire every enabled rule whose watched value reached its threshold at a changed counter."""
    touched = set(touched_counter_keys)
    if not touched:
        return []
    rules = [(r, decode_rule(r)) for r in uow.alerts.rules()]
    rules = [
        (record, rule)
        for record, rule in rules
        if rule.enabled and rule.kind is not AlertKind.RECONCILIATION
    ]
    credit = [(r, rule) for r, rule in rules if rule.kind is AlertKind.CREDIT_BALANCE_BELOW]
    quota = [(r, rule) for r, rule in rules if rule.kind is AlertKind.ENTITLEMENT_USAGE]
    rules = [
        (r, rule)
        for r, rule in rules
        if rule.kind not in (AlertKind.CREDIT_BALANCE_BELOW, AlertKind.ENTITLEMENT_USAGE)
    ]
    if not (credit or quota or rules):
        return []  # no rule watches: the keys are not even sorted (a batch's thousands, ADR 0976)
    uow.counters.flush()  # the rules read what this transaction wrote (ADR 0974)
    keys = sorted(touched)
    fired = _fire_credit_rules(uow, credit, keys, now) if credit else []
    if not rules and not quota:
        return fired
    aggregations = {code: m.aggregation for code, m in load_metrics(uow).items()}
    if quota:
        fired += _fire_entitlement_rules(uow, quota, keys, aggregations, now)
    if not rules:
        return fired
    uow.alerts.lock_customers(_spend_customers(keys, [rule for _, rule in rules]))
    ev = _Evaluation(uow, {}, {})  # every counter read happens after the locks
    for key in keys:
        metric, customer_ref, period_start_us = key
        for record, rule in rules:
            if not rule.watches(metric, customer_ref) or metric not in aggregations:
                continue
            value, currency = _observed(ev, rule, key, aggregations)
            if value is None or value < rule.trigger_value:
                continue  # checked first: below-threshold keys cost no fired-lookup
            scope = None if rule.recurrence is Recurrence.ONCE else period_start_us
            if uow.alerts.has_fired(record.rule_id, customer_ref, scope):
                continue
            event = _fire(ev, record, rule, key, value, currency, now)
            if event is not None:
                fired.append(event)
    return fired


def _fire_credit_rules(
    uow: IngestUnitOfWork,
    rules: list[tuple[AlertRuleRecord, AlertRule]],
    keys: list[CounterKey],
    now: datetime,
) -> list[AlertEventRecord]:
    """Fire each credit rule once per customer and billing period (or once ever) when the
    customer's balance is below its threshold after this transaction's usage."""
    first_key = {ref: key for key in reversed(keys) for ref in [key[1]]}
    ev = _Evaluation(uow, {}, {})
    fired = []
    for record, rule in rules:
        for low in low_balances(uow, rule, first_key, now):
            key = first_key[low.customer_ref]
            scope = None if rule.recurrence is Recurrence.ONCE else key[2]
            if uow.alerts.has_fired(record.rule_id, low.customer_ref, scope):
                continue
            event = _fire(ev, record, rule, key, low.balance, low.currency, now)
            if event is not None:
                fired.append(event)
    return fired


def _fire_entitlement_rules(
    uow: IngestUnitOfWork,
    rules: list[tuple[AlertRuleRecord, AlertRule]],
    keys: list[CounterKey],
    aggregations: dict[str, Any],
    now: datetime,
) -> list[AlertEventRecord]:
    """Fire each entitlement rule once per customer and usage window (or once ever) when
    usage of its feature reached the rule's percent of the customer's limit. The usage is
    the counter this transaction wrote (and holds locked), so concurrent writers of one
    customer's counter cross one after another and exactly one fires."""
    ev = _Evaluation(uow, {}, {})
    fired = []
    for record, rule in rules:

        def state_at(key: CounterKey) -> Any:
            counter = ev.counter(key)
            return counter.state if counter else None

        for crossing in crossings(uow, rule, keys, aggregations, state_at, now):
            customer_ref, period_start_us = crossing.key[1], crossing.key[2]
            scope = None if rule.recurrence is Recurrence.ONCE else period_start_us
            if uow.alerts.has_fired(record.rule_id, customer_ref, scope):
                continue
            extra = {"feature": rule.feature, "limit": to_plain_string(crossing.limit)}
            event = _fire(
                ev,
                record,
                rule,
                crossing.key,
                crossing.usage,
                None,
                now,
                threshold=crossing.trigger,
                extra=extra,
            )
            if event is not None:
                fired.append(event)
    return fired


def _spend_customers(keys: list[CounterKey], rules: list[AlertRule]) -> list[str]:
    """Customers whose evaluation reads counters this transaction did not write: those a
    spend rule over all metrics watches. Two transactions adding to different metrics of one
    customer would each see only their own part, and neither fire; under the per-customer
    lock the second reads (READ COMMITTED: each statement a fresh snapshot) what the first
    committed, so every crossing fires exactly once (ADR 0012)."""
    spanning = [r for r in rules if r.kind is AlertKind.SPEND and r.metric is None]
    return [ref for _, ref, _ in keys if any(r.customer_ref in (None, ref) for r in spanning)]


def _fire(
    ev: _Evaluation,
    record: AlertRuleRecord,
    rule: AlertRule,
    key: CounterKey,
    value: Decimal,
    currency: str | None,
    now: datetime,
    *,
    threshold: Decimal | None = None,
    extra: Mapping[str, object] | None = None,
) -> AlertEventRecord | None:
    metric, customer_ref, period_start_us = key
    counter = ev.counter(key)
    period_end_us = counter.period_end_us if counter else period_start_us
    event_id = f"alev_{uuid.uuid4().hex[:24]}"
    watched = rule.metric if rule.kind is AlertKind.SPEND else metric
    payload = {
        "id": event_id,
        "type": EVENT_TYPE,
        "tenantId": ev.uow.tenant_id,
        "ruleId": record.rule_id,
        "ruleName": rule.name,
        "kind": rule.kind.value,
        "metric": watched,
        "customerRef": customer_ref,
        "periodStart": format_timestamp(from_micros(period_start_us)),
        "periodEnd": format_timestamp(from_micros(period_end_us)),
        "threshold": to_plain_string(rule.trigger_value if threshold is None else threshold),
        "value": format(value, "f"),
        "currency": currency,
        "triggeredAt": format_timestamp(now),
        **(extra or {}),
    }
    event = ev.uow.alerts.fire(
        event_id=event_id,
        rule_id=record.rule_id,
        customer_ref=customer_ref,
        metric=watched,
        period_start_us=period_start_us,
        period_end_us=period_end_us,
        payload=json.dumps(payload, separators=(",", ":")),
        now_us=to_micros(now),
    )
    if event is not None and record.webhook_url is not None:
        ev.uow.alerts.enqueue(
            delivery_id=f"dlv_{uuid.uuid4().hex[:24]}",
            event_seq=event.seq,
            rule_id=record.rule_id,
            url=record.webhook_url,
            now_us=to_micros(now),
        )
    return event
