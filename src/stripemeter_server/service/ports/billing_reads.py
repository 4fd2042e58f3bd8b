"""The one-statement read behind a customer's credit and upcoming invoice (ADR 0948)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.domain.credits import CreditGrant
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.prices import StoredPrice
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.stripe_sync.ports.accounts import StoredMapping


@dataclass(frozen=True, slots=True)
class BillingInputs:
    """What a credit summary and an upcoming invoice are computed from, read at once, each
    set as its repository returns it: the customer's credit grants (voided ones too, oldest
    first), every metric's stored definition, the default prices with the customer's
    overrides (defaults first), every Stripe mapping, the customer's record; ``burning``:
    the customer's counters that start before ``now`` and end after its earliest grant
    takes effect (none without a grant: what the burn-down reads); ``containing``: its
    counters whose stored period contains ``at``."""

    grants: list[CreditGrant]
    metrics: dict[str, str]
    prices: list[StoredPrice]
    mappings: list[StoredMapping]
    customer: CustomerRecord | None
    burning: list[StoredCounter]
    containing: list[StoredCounter]


class BillingReads(Protocol):
    def billing_inputs(self, customer_ref: str, now_us: int, at_us: int) -> BillingInputs:
        """Everything above; the adapter reads it in one statement (both stores)."""
        ...
