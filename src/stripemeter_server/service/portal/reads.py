"""What a portal token reads: its customer's current usage, history and projection, through
the usage feature's own use cases (never a second implementation), limited to the token's
metrics. A metric outside the token is answered exactly like one that does not exist.

Extension point: entitlements, credit balances and the upcoming-invoice preview belong
here too, as further reads of ``grant.customer_ref``, once those features exist; until
then the portal shows none of them (docs/portal.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.portal.tokens import PortalGrant
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage.projection import (
    Projection,
    current_with_costs,
    project_customer,
)
from stripemeter_server.service.usage.reads import HistoryPoint, PeriodUsage, usage_history


def check_metric(grant: PortalGrant, code: str) -> None:
    if not grant.allows_metric(code):
        raise NotFoundError(f"metric {code!r} does not exist", code="metric_not_found",
                            field="metric")


def current(uow: UnitOfWork, grant: PortalGrant,
            now: datetime) -> tuple[list[PeriodUsage], dict[str, Quote | None]]:
    """Each allowed metric's open period and its cost (backfill sessions are the
    operator's business, not the customer's: left out)."""
    found, costs, _ = current_with_costs(uow, grant.customer_ref, now, None)
    shown = [u for u in found if grant.allows_metric(u.metric.code)]
    return shown, {u.metric.code: costs.get(u.metric.code) for u in shown}


def history(uow: UnitOfWork, grant: PortalGrant, metric: str, start: datetime,
            end: datetime, step: str) -> list[HistoryPoint]:
    check_metric(grant, metric)
    return usage_history(uow, grant.customer_ref, metric, start, end, step, None)


def projection(uow: UnitOfWork, grant: PortalGrant, now: datetime) -> Projection:
    return project_customer(uow, grant.customer_ref, now, None, only=grant.metrics)


def history_window(uow: UnitOfWork, grant: PortalGrant, codes: list[str], now: datetime,
                   days: int) -> dict[str, list[HistoryPoint]]:
    """Each listed metric's daily history of the last ``days`` days (the page's charts)."""
    start = now - timedelta(days=days)
    return {code: history(uow, grant, code, start, now, "day") for code in codes}
