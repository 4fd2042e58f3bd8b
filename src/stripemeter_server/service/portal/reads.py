"""What a portal token reads: its customer's current usage, history, projection,
entitlements, credit and upcoming invoice, through each feature's own use cases (never a
second implementation), limited to the token's metrics. A metric outside the token is
answered exactly like one that does not exist: its entitlements, unit credit and invoice
lines are left out (and so out of every total).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from stripemeter_server.domain.credits import UNIT_PREFIX, CreditGrant
from stripemeter_server.domain.entitlements import Access
from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.credits.balance import CreditSummary, credit_summary
from stripemeter_server.service.entitlements.access import check_all
from stripemeter_server.service.invoicing.upcoming import UpcomingInvoice, upcoming_invoice
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.tokens import PortalGrant
from stripemeter_server.service.usage.projection import (
    Projection,
    current_costs,
    project_customer,
)
from stripemeter_server.service.usage.reads import (
    HistoryPoint,
    PeriodUsage,
    current_usage,
    usage_history,
)


def check_metric(grant: PortalGrant, code: str) -> None:
    if not grant.allows_metric(code):
        raise NotFoundError(
            f"metric {code!r} does not exist", code="metric_not_found", field="metric"
        )


def current(
    uow: UnitOfWork, grant: PortalGrant, now: datetime
) -> tuple[list[PeriodUsage], dict[str, Quote | None]]:
    """Each allowed metric's open period and its cost (backfill sessions are the
    operator's business, not the customer's: left out)."""
    found = current_usage(uow, grant.customer_ref, now, None)
    shown = [u for u in found if grant.allows_metric(u.metric.code)]
    return shown, current_costs(uow, grant.customer_ref, shown)


def history(
    uow: UnitOfWork, grant: PortalGrant, metric: str, start: datetime, end: datetime, step: str
) -> list[HistoryPoint]:
    check_metric(grant, metric)
    return usage_history(uow, grant.customer_ref, metric, start, end, step, None)


def projection(uow: UnitOfWork, grant: PortalGrant, now: datetime) -> Projection:
    return project_customer(uow, grant.customer_ref, now, None, only=grant.metrics)


def history_window(
    uow: UnitOfWork, grant: PortalGrant, codes: list[str], now: datetime, days: int
) -> dict[str, list[HistoryPoint]]:
    """Each listed metric's daily history of the last ``days`` days (the page's charts)."""
    start = now - timedelta(days=days)
    return {code: history(uow, grant, code, start, now, "day") for code in codes}


def entitlements(uow: UnitOfWork, grant: PortalGrant, now: datetime) -> list[Access]:
    """Every feature as the customer may use it; a metered feature only when its metric
    is the token's (a boolean or config feature measures no metric: always shown)."""
    found = check_all(uow, grant.customer_ref, now)
    return [a for a in found if a.feature.metric is None or grant.allows_metric(a.feature.metric)]


def credits(uow: UnitOfWork, grant: PortalGrant, now: datetime) -> CreditSummary:
    """The customer's credit. Money is the customer's wallet, shown whole; credit in a
    metric's units, and grants applying only to other metrics, only for the token's."""
    summary = credit_summary(uow, grant.customer_ref, now)
    if grant.metrics is None:
        return summary
    return replace(
        summary,
        balances=[b for b in summary.balances if _denomination_allowed(grant, b.denomination)],
        grants=[
            replace(s, grant=_trimmed(grant.metrics, s.grant))
            for s in summary.grants
            if _credit_grant_allowed(grant, s.grant)
        ],
    )


def upcoming(uow: UnitOfWork, grant: PortalGrant, at: datetime, now: datetime) -> UpcomingInvoice:
    return upcoming_invoice(uow, grant.customer_ref, at, now, only=grant.metrics)


def _denomination_allowed(grant: PortalGrant, denomination: str) -> bool:
    return not denomination.startswith(UNIT_PREFIX) or grant.allows_metric(
        denomination.removeprefix(UNIT_PREFIX)
    )


def _credit_grant_allowed(grant: PortalGrant, credit: CreditGrant) -> bool:
    if not _denomination_allowed(grant, credit.denomination):
        return False
    return credit.applies_to is None or any(grant.allows_metric(m) for m in credit.applies_to)


def _trimmed(metrics: frozenset[str], credit: CreditGrant) -> CreditGrant:
    """The grant naming only the token's metrics among those it applies to."""
    if credit.applies_to is None:
        return credit
    return replace(credit, applies_to=credit.applies_to & metrics)
