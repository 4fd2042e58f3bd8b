"""Executing a reconciliation run: claimed through the database, streamed page by page.

A run is a row (``queued``) until some process claims it with a lease: the API process right
after ``POST /v1/reconciliation/runs`` answers, any ``stripemeter worker``, or the CLI. The
lease is renewed with each page's progress, so a dead worker's run is taken over (its lines
are written again from the start). Customers are walked in keyset pages; each page is read
in one short read-only transaction, compared with Stripe outside any transaction (within the
account's rate limit), repaired if asked, and written in one short transaction — memory holds
one page, never the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from stripemeter_server.domain.errors import ConflictError, StripemeterError
from stripemeter_server.domain.reconciliation import needs_attention
from stripemeter_server.domain.stripe_mapping import SyncMode
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.reconciliation import repair
from stripemeter_server.service.reconciliation.compare import Compared, compare
from stripemeter_server.service.reconciliation.credits import (
    compare_credit,
    plan_credits,
    repair_credits,
)
from stripemeter_server.service.reconciliation.gate import InvoiceTally, judge
from stripemeter_server.service.reconciliation.plan import RunScope, in_scope_mappings, plan_page
from stripemeter_server.service.reconciliation.ports import (
    DONE,
    FAILED,
    GateVerdict,
    LineRecord,
    RunRecord,
)
from stripemeter_server.service.reconciliation.reader import StripeReader, bucket_for
from stripemeter_server.service.stripe_sync.sender import PushPolicy

log = logging.getLogger(__name__)
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RunPolicy:
    page_size: int = 200
    lease: timedelta = timedelta(minutes=5)
    push: PushPolicy = field(default_factory=PushPolicy)


def claim(ctx: ServiceContext, tenant: str, run_id: str, policy: RunPolicy) -> RunRecord | None:
    now_us = to_micros(ctx.clock.now())
    with ctx.store.unit_of_work(tenant) as uow:
        run = uow.reconciliation.claim_run(run_id, now_us, _us(policy.lease))
        uow.commit()
    return run


def execute(
    ctx: ServiceContext,
    tenant: str,
    run_id: str,
    policy: RunPolicy | None = None,
    progress: Progress | None = None,
) -> RunRecord | None:
    """Claim and work one run to its end; None when another process holds it. Never raises
    for a failed run: the run ends ``failed`` with the reason, visible to operators."""
    policy = policy or RunPolicy()
    run = claim(ctx, tenant, run_id, policy)
    if run is None:
        return None
    try:
        summary = _work(ctx, run, policy, progress)
        status, error = DONE, None
    except StripemeterError as exc:
        summary, status, error = None, FAILED, exc.message
    except Exception as exc:  # recorded, then re-raised for the caller's log
        _finish(ctx, run, FAILED, None, f"internal error: {type(exc).__name__}")
        raise
    _finish(ctx, run, status, summary, error)
    with ctx.store.unit_of_work(tenant, read_only=True) as uow:
        return uow.reconciliation.get_run(run_id)


def _finish(
    ctx: ServiceContext, run: RunRecord, status: str, summary: str | None, error: str | None
) -> None:
    with ctx.store.unit_of_work(run.tenant_id) as uow:
        uow.reconciliation.finish(
            run.run_id,
            status=status,
            summary=summary,
            error=error,
            now_us=to_micros(ctx.clock.now()),
        )
        uow.commit()


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _work(ctx: ServiceContext, run: RunRecord, policy: RunPolicy, progress: Progress | None) -> str:
    tenant, scope, now = run.tenant_id, RunScope.from_json(run.filters), ctx.clock.now()
    min_end_us = to_micros(scope.lower_bound(now))
    with ctx.store.unit_of_work(tenant, read_only=True) as uow:
        credentials = ctx.stripe.credentials(uow)
        pairs = in_scope_mappings(uow, scope)
        total = 1 if scope.customer_ref else uow.reconciliation.customer_count(min_end_us)
    if credentials is None:
        raise ConflictError(
            "no Stripe account is configured for this tenant", code="stripe_not_configured"
        )
    reader = StripeReader(
        ctx.store,
        tenant,
        ctx.stripe.port(credentials),
        bucket_for(credentials, policy.push),
        policy.push,
    )
    with ctx.store.unit_of_work(tenant) as uow:
        uow.reconciliation.delete_lines(run.run_id)
        uow.reconciliation.progress(run.run_id, 0, total, to_micros(now) + _us(policy.lease))
        uow.commit()
    invoices: dict[str, InvoiceTally] = {}
    line_no, done, after = 0, 0, None
    while True:
        page = _page(ctx, tenant, scope, after, policy.page_size, min_end_us)
        if not page:
            break
        with ctx.store.unit_of_work(tenant, read_only=True) as uow:
            tasks = plan_page(uow, scope, page, pairs, now)
            credit_tasks = plan_credits(uow, scope, page, now)
        found = [c for c in (compare(t, reader, now) for t in tasks) if c is not None]
        credits = [c for c in (compare_credit(t, reader) for t in credit_tasks) if c is not None]
        lines = (
            _repair(ctx, run, found, reader, policy, now) if run.repair else [c.line for c in found]
        )
        lines += (
            repair_credits(credits, reader, run.run_id) if run.repair else [c.line for c in credits]
        )
        numbered = [replace(line, line_no=line_no + i + 1) for i, line in enumerate(lines)]
        line_no += len(numbered)
        _tally(
            invoices,
            [(c.task.customer_ref, c.task.invoice_status) for c in found]
            + [(c.task.customer_ref, c.task.invoice_status) for c in credits],
            numbered,
        )
        done += len(page)
        with ctx.store.unit_of_work(tenant) as uow:
            uow.reconciliation.add_lines(run.run_id, numbered)
            uow.reconciliation.progress(
                run.run_id, done, max(total, done), to_micros(ctx.clock.now()) + _us(policy.lease)
            )
            uow.commit()
        if progress is not None:
            progress(done, max(total, done))
        after = page[-1]
        if scope.customer_ref is not None:
            break
    verdicts = judge(ctx, tenant, run.run_id, reader, invoices, now) if invoices else []
    return _summary(ctx, run, verdicts, reader.calls)


def _page(
    ctx: ServiceContext, tenant: str, scope: RunScope, after: str | None, size: int, min_end_us: int
) -> list[str]:
    if scope.customer_ref is not None:
        return [] if after is not None else [scope.customer_ref]
    with ctx.store.unit_of_work(tenant, read_only=True) as uow:
        return uow.reconciliation.customer_page(after=after, limit=size, min_end_us=min_end_us)


def _tally(
    invoices: dict[str, InvoiceTally], found: list[tuple[str, str | None]], lines: list[LineRecord]
) -> None:
    """Count each draft's lines that still need attention (usage and credit lines alike);
    ``found`` is (customerRef, invoice status) of each line, in order."""
    for (customer_ref, invoice_status), line in zip(found, lines, strict=True):
        if line.invoice_id is None or invoice_status != "draft":
            continue
        tally = invoices.setdefault(
            line.invoice_id, InvoiceTally(customer_ref, line.period_start_us, line.period_end_us)
        )
        unresolved = needs_attention(line.status) and (
            line.status_after is None or needs_attention(line.status_after)
        )
        tally.add(line.metric, unresolved, line.money_at_stake, line.currency)


def _repair(
    ctx: ServiceContext,
    run: RunRecord,
    found: list[Compared],
    reader: StripeReader,
    policy: RunPolicy,
    now: datetime,
) -> list[LineRecord]:
    """Each line with its repair action and re-checked status (``status_after``)."""
    lines = [c.line for c in found]
    pushes: dict[int, str] = {}
    for i, compared in enumerate(found):
        if not repair.repairable(compared):
            continue
        if compared.task.mapping.mode is SyncMode.INVOICE_ITEMS:
            action, note = repair.repair_invoice_item(compared, reader, run.run_id)
            after = repair.recheck(compared, reader, now) if action == repair.REPAIRED else None
            lines[i] = _acted(lines[i], action, note, after)
        elif repair._closed(compared, now):
            action, note = repair._by_hand(compared, "the period is closed")
            lines[i] = _acted(lines[i], action, note, None)
        else:
            push_id, note = repair.plan_push(ctx, run.tenant_id, compared, now)
            if push_id is None:
                lines[i] = _acted(lines[i], repair.MANUAL, note, None)
            else:
                pushes[i] = push_id
                lines[i] = _acted(lines[i], repair.REPAIRED, note, None)
    repair.send_pushes(ctx, run.tenant_id, policy.push, list(pushes.values()), now)
    for i in pushes:
        lines[i] = replace(lines[i], status_after=repair.recheck(found[i], reader, now))
    return lines


def _acted(line: LineRecord, action: str, note: str, after: str | None) -> LineRecord:
    text = note if not line.note else f"{line.note}; {note}"
    return replace(line, action=action, note=text[:2000], status_after=after)


def _summary(
    ctx: ServiceContext, run: RunRecord, verdicts: list[GateVerdict], stripe_calls: int
) -> str:
    with ctx.store.unit_of_work(run.tenant_id, read_only=True) as uow:
        totals = uow.reconciliation.totals(run.run_id)
        unresolved = uow.reconciliation.unresolved_count(run.run_id)
    counts: dict[str, int] = {}
    metrics: dict[str, dict[str, object]] = {}
    for t in totals:
        counts[t.status] = counts.get(t.status, 0) + t.lines
        entry = metrics.setdefault(
            t.metric,
            {
                "lines": 0,
                "byStatus": {},
                "local": "0",
                "stripe": "0",
                "absoluteDrift": "0",
                "moneyAtStake": None,
                "attentionDrift": "0",
                "attentionMoney": None,
            },
        )
        entry["lines"] = int(str(entry["lines"])) + t.lines
        by_status = entry["byStatus"]
        assert isinstance(by_status, dict)
        by_status[t.status] = t.lines
        for key, value in (
            ("local", t.local),
            ("stripe", t.stripe),
            ("absoluteDrift", t.drift),
            ("moneyAtStake", t.money),
        ):
            if value is not None:
                entry[key] = format(_d(entry[key]) + value, "f")
        if needs_attention(t.status):
            for key, value in (("attentionDrift", t.drift), ("attentionMoney", t.money)):
                if value is not None:
                    entry[key] = format(_d(entry[key]) + abs(value), "f")
    held = [v.invoice_id for v in verdicts if v.state == "held"]
    return json.dumps(
        {
            "counts": counts,
            "metrics": metrics,
            "unresolved": unresolved,
            "invoices": [
                {"invoiceId": v.invoice_id, "state": v.state, "driftLines": v.drift_lines}
                for v in verdicts
            ],
            "held": held,
            "stripeCalls": stripe_calls,
        },
        sort_keys=True,
    )


def _d(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


__all__ = ["RunPolicy", "claim", "execute"]
