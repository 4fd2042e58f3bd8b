"""A customer's entitlements, prepaid credit and upcoming invoice for the customer page, in
the admin API's own JSON shapes (the same serializers), so the page shows what the API says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stripemeter_server.api.routes.credits import credits_json
from stripemeter_server.api.routes.entitlements.views import access_json
from stripemeter_server.api.routes.upcoming_invoice import invoice_json
from stripemeter_server.service.credits import balance as credit_balance
from stripemeter_server.service.entitlements import access as checks
from stripemeter_server.service.invoicing.upcoming import upcoming_invoice
from stripemeter_server.service.ports.unit_of_work import UnitOfWork


def billing_section(uow: UnitOfWork, ref: str, now: datetime) -> dict[str, Any]:
    """Read in the page's one transaction, so the three agree with each other."""
    return {
        "entitlements": [access_json(a, ref) for a in checks.check_all(uow, ref, now)],
        "credits": credits_json(credit_balance.credit_summary(uow, ref, now)),
        "invoice": invoice_json(upcoming_invoice(uow, ref, now, now)),
    }
