"""When runs start by themselves: before each period closes, and on ``invoice.created``.

Both are claimed through the database. A scheduled run's id is derived from (tenant, metric,
period), so however many nodes look at the clock, one run is created (the insert of a second
is ignored) and one process executes it (the run's lease). A gate run's id is derived from
the invoice, so a redelivered or retried ``invoice.created`` makes no second run.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import period_before, period_containing
from stripemeter_server.domain.reconciliation_scope import close_time
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.invoicing.invoice_fields import invoice_fields
from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
from stripemeter_server.service.reconciliation.gate import OFF, gate_setting
from stripemeter_server.service.reconciliation.plan import RunScope, in_scope_mappings
from stripemeter_server.service.reconciliation.runs import start_run
from stripemeter_server.service.stripe_sync.accounts import tenants_with_stripe


def _ident(prefix: str, *parts: object) -> str:
    material = "\x1f".join(str(p) for p in parts)
    return prefix + hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def schedule_due(ctx: ServiceContext, now: datetime, default_lead_seconds: int) -> list[str]:
    """Queue the run of every mapped metric whose period closes within the tenant's lead
    (``end + latenessWindow - lead <= now < end + latenessWindow``); returns new run ids."""
    tenants = tenants_with_stripe(ctx.store, ctx.stripe.environment)
    created = []
    for tenant in tenants:
        with ctx.store.unit_of_work(tenant) as uow:
            lead = timedelta(seconds=gate_setting(uow, default_lead_seconds).lead_seconds)
            for _mapping, metric in in_scope_mappings(uow, RunScope()):
                current = period_containing(metric.period, now)
                for period in (period_before(metric.period, current), current):
                    closes = close_time(period, metric.lateness_window)
                    if not closes - lead <= now < closes:
                        continue
                    run_id = _ident("rcs_", tenant, metric.code, to_micros(period.start))
                    if uow.reconciliation.get_run(run_id) is None:
                        start_run(
                            uow,
                            RunScope(metric=metric.code),
                            False,
                            now,
                            trigger="schedule",
                            run_id=run_id,
                        )
                        created.append(run_id)
            uow.commit()
    return created


def gate_after_billing(
    ctx: ServiceContext, tenant: str, invoice_obj: object, policy: RunPolicy | None = None
) -> str | None:
    """After ``invoice.created`` put the usage items on a draft: run the gate's check of that
    invoice (unless the tenant's gate is ``off``); returns the run id."""
    try:
        invoice = invoice_fields(invoice_obj)
    except ValidationError:
        return None
    if invoice.status != "draft":
        return None
    with ctx.store.unit_of_work(tenant) as uow:
        record = uow.stripe_invoices.get(invoice.invoice_id)
        if record is None or gate_setting(uow).gate == OFF:
            return None
        run_id = _ident("rci_", tenant, invoice.invoice_id)
        if uow.reconciliation.get_run(run_id) is None:
            start_run(
                uow,
                RunScope(customer_ref=record.customer_ref, invoice_id=invoice.invoice_id),
                False,
                ctx.clock.now(),
                trigger="invoice",
                run_id=run_id,
            )
        uow.commit()
    execute(ctx, tenant, run_id, policy)
    return run_id
