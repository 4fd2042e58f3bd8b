"""`stripe sync-meters`: make sure each ``meter_events`` mapping has a Stripe meter that can
hold what the pusher sends.

A ``sum`` meter for additive metrics (the pusher sends deltas), a ``last`` meter for
value-like ones (it sends the value). An existing meter with another formula or other
payload keys cannot be fixed by us (Stripe meters' aggregation is immutable), so the mapping
is refused with the reason instead of being pushed into a meter that would bill wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass

from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.stripe_mapping import (
    MeterFormula,
    StripeMapping,
    SyncMode,
    meter_formula,
)
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ports.stripe import MeterInfo, MeterStatus, StripePort
from stripemeter_server.service.stripe_sync.mappings import list_mappings

CREATED, OK, MISSING, REFUSED = "created", "ok", "missing", "refused"
CUSTOMER_KEY, VALUE_KEY = "stripe_customer_id", "value"


@dataclass(frozen=True, slots=True)
class MeterCheck:
    metric: str
    event_name: str
    formula: MeterFormula
    status: str
    meter_id: str | None = None
    reason: str | None = None


def _refusal(metric: Metric | None, meter: MeterInfo, formula: MeterFormula) -> str | None:
    if metric is None:
        return "the mapped metric no longer exists"
    if meter.formula.value != formula.value:
        return (
            f"meter {meter.meter_id} aggregates with '{meter.formula}', but a "
            f"{metric.aggregation.value} metric needs '{formula}' (Stripe meters cannot "
            "change formula: create a meter with another event name and set meterEventName)"
        )
    if (meter.customer_key, meter.value_key) != (CUSTOMER_KEY, VALUE_KEY):
        return (
            f"meter {meter.meter_id} reads payload keys '{meter.customer_key}'/"
            f"'{meter.value_key}', but pushes send '{CUSTOMER_KEY}'/'{VALUE_KEY}'"
        )
    return None


def sync_meters(
    port: StripePort,
    mappings: list[StripeMapping],
    metrics: dict[str, Metric],
    *,
    create: bool = True,
) -> list[MeterCheck]:
    """Check (and with ``create``, create) the meter of every meter_events mapping."""
    meters = {m.event_name: m for m in port.list_meters() if m.status is MeterStatus.ACTIVE}
    checks = []
    for mapping in mappings:
        if mapping.mode is not SyncMode.METER_EVENTS:
            continue
        metric = metrics.get(mapping.metric)
        formula = meter_formula(metric.aggregation) if metric else MeterFormula.SUM
        existing = meters.get(mapping.event_name)
        if existing is not None or metric is None:
            checks.append(_check_existing(mapping, metric, existing, formula))
            continue
        if not create:
            checks.append(MeterCheck(mapping.metric, mapping.event_name, formula, MISSING))
            continue
        display = metric.display_name or mapping.metric
        made = port.create_meter(mapping.event_name, display, formula)
        meters[made.event_name] = made
        checks.append(
            MeterCheck(mapping.metric, mapping.event_name, formula, CREATED, made.meter_id)
        )
    return checks


def _check_existing(
    mapping: StripeMapping, metric: Metric | None, meter: MeterInfo | None, formula: MeterFormula
) -> MeterCheck:
    if meter is None:  # only when the metric is gone
        return MeterCheck(
            mapping.metric,
            mapping.event_name,
            formula,
            REFUSED,
            reason="the mapped metric no longer exists",
        )
    reason = _refusal(metric, meter, formula)
    status = OK if reason is None else REFUSED
    return MeterCheck(mapping.metric, mapping.event_name, formula, status, meter.meter_id, reason)


def sync_tenant_meters(
    ctx: ServiceContext, tenant_id: str, *, create: bool = True
) -> list[MeterCheck]:
    """The use case behind the CLI and ``POST /v1/stripe/meters/sync``: read the tenant's
    mappings in one short read-only transaction, then talk to Stripe outside of it."""
    with ctx.store.unit_of_work(tenant_id, read_only=True) as uow:
        if uow.tenants.get(tenant_id) is None:
            raise NotFoundError(
                f"tenant {tenant_id!r} does not exist", code="tenant_not_found", field="tenant"
            )
        mappings, metrics = list_mappings(uow), load_metrics(uow)
        port = ctx.stripe.port_for(uow)
    return sync_meters(port, mappings, metrics, create=create)
