"""Everything the embeddable page shows, read in one unit of work (one snapshot): the
customer's usage and costs, the projection, a month of daily history per metric, the
entitlements, credit and upcoming invoice, the customer's alert thresholds and the tenant's
theme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.entitlements import Access
from stripemeter_server.domain.pricing import Quote
from stripemeter_server.service.alerts.rules import RuleView
from stripemeter_server.service.credits.balance import CreditSummary
from stripemeter_server.service.invoicing.upcoming import UpcomingInvoice
from stripemeter_server.service.portal import alerts, reads
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork
from stripemeter_server.service.portal.settings import PortalSettings, get_settings
from stripemeter_server.service.portal.tokens import PortalGrant
from stripemeter_server.service.usage.projection import Projection
from stripemeter_server.service.usage.reads import HistoryPoint, PeriodUsage

HISTORY_DAYS = 31


@dataclass(frozen=True, slots=True)
class PortalPage:
    usage: list[PeriodUsage]
    costs: dict[str, Quote | None]
    projection: Projection
    history: dict[str, list[HistoryPoint]]
    rules: list[RuleView]
    settings: PortalSettings
    entitlements: list[Access]
    credits: CreditSummary
    upcoming: UpcomingInvoice


def page(uow: UnitOfWork, grant: PortalGrant, now: datetime) -> PortalPage:
    usage, costs = reads.current(uow, grant, now)
    codes = [u.metric.code for u in usage]
    return PortalPage(
        usage,
        costs,
        reads.projection(uow, grant, now),
        reads.history_window(uow, grant, codes, now, HISTORY_DAYS),
        alerts.list_rules(uow, grant),
        get_settings(uow),
        reads.entitlements(uow, grant, now),
        reads.credits(uow, grant, now),
        reads.upcoming(uow, grant, now, now),
    )


def frame_ancestors(uow: UnitOfWork) -> tuple[str, ...]:
    """The unit of work's tenant's frame ancestors (the 401 page is framed like the page)."""
    return get_settings(uow).frame_ancestors
