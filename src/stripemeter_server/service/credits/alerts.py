"""``credit_balance_below`` alert rules, evaluated in the writing transaction like the others.

Called by alert evaluation with the customers whose counters the transaction changed: each
one's balance per currency (the burn-down as of now, so this usage included) is compared
with every credit rule that watches the customer; fire-once is the alert store's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.alerts import AlertRule
from stripemeter_server.service.credits.burn import burn_down
from stripemeter_server.service.ingest.ports import IngestUnitOfWork


@dataclass(frozen=True, slots=True)
class LowBalance:
    customer_ref: str
    currency: str
    balance: Decimal


def low_balances(
    uow: IngestUnitOfWork, rule: AlertRule, customers: Iterable[str], now: datetime
) -> list[LowBalance]:
    """The customers (of those given) whose money balance is below the rule's threshold:
    in the rule's currency, or in each currency they hold credit in."""
    found = []
    for customer_ref in sorted(set(customers)):
        if rule.customer_ref is not None and rule.customer_ref != customer_ref:
            continue
        current = burn_down(uow, customer_ref, now)
        currencies = sorted({g.currency for g in current.grants if g.currency is not None})
        for currency in currencies:
            if rule.currency is not None and currency != rule.currency:
                continue
            balance = current.pool.balance(currency, now)
            if balance < rule.trigger_value:
                found.append(LowBalance(customer_ref, currency, balance))
    return found
