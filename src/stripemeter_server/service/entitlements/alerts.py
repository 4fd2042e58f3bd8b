"""``entitlement_usage`` alert rules, evaluated in the writing transaction like the others.

Alert evaluation calls this with the counters the transaction changed. A rule watches a
metered feature counted by the live counter (its window is the customer's billing period of
the metric, without a filter of its own: ADR 0920), so the usage it compares is the counter
row this transaction has just written and still holds locked — no ledger scan on the ingest
path. The limit is the customer's grant plus the window's extra grants; fire-once per
window is the alert store's unique key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from stripemeter_server.domain.alerts import HUNDRED, AlertRule
from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ARITHMETIC, ZERO
from stripemeter_server.domain.entitlement_parsing import feature_from_dict
from stripemeter_server.domain.entitlements import Feature, FeatureKind, Reason, grant_reason
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.service.entitlements.ports import FeatureReads
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ports.counters import CounterKey


class FeatureSource(Protocol):
    """Any unit of work that reads features: creating a rule checks its feature too."""

    @property
    def features(self) -> FeatureReads: ...


@dataclass(frozen=True, slots=True)
class Crossing:
    """A customer's usage of the rule's feature at or past the rule's share of the limit."""

    key: CounterKey
    usage: Decimal
    limit: Decimal
    trigger: Decimal


def counted_feature(uow: FeatureSource, key: str) -> Feature | None:
    """The feature when an entitlement rule can watch it from the counter (metered, the
    billing period as window, no filter of its own); ``None`` otherwise (the rule waits)."""
    stored = uow.features.get(key)
    if stored is None:
        return None
    feature = feature_from_dict(stored.key, json.loads(stored.definition))
    if feature.kind is not FeatureKind.METERED or feature.filter or feature.reset is not None:
        return None
    return feature


def crossings(
    uow: IngestUnitOfWork,
    rule: AlertRule,
    keys: list[CounterKey],
    aggregations: dict[str, Aggregation],
    state_at: Callable[[CounterKey], CounterState | None],
    now: datetime,
) -> list[Crossing]:
    """The changed counters at which the rule's feature reached its threshold."""
    feature = counted_feature(uow, rule.feature or "")
    if feature is None or feature.metric not in aggregations:
        return []
    found = []
    for key in keys:
        metric, customer_ref, period_start_us = key
        if metric != feature.metric or rule.customer_ref not in (None, customer_ref):
            continue
        record = uow.grants.get(customer_ref, feature.key)
        if (
            record is None
            or record.grant.limit is None
            or grant_reason(record.grant, now) is not Reason.OK
        ):
            continue
        state = state_at(key)
        usage = state.value(aggregations[metric]) if state is not None else None
        if usage is None or usage <= ZERO:
            continue
        extras = uow.grants.extras(customer_ref, feature.key, period_start_us)
        limit = ARITHMETIC.add(record.grant.limit, sum((e.amount for e in extras), ZERO))
        trigger = ARITHMETIC.divide(ARITHMETIC.multiply(limit, rule.threshold), HUNDRED)
        if usage >= trigger:
            found.append(Crossing(key, usage, limit, trigger))
    return found
