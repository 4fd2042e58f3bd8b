"""Which Stripe subscription item a customer's metric is reported to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

OVERRIDE, LOOKUP = "override", "lookup"


@dataclass(frozen=True, slots=True)
class SubscriptionItemRecord:
    customer_ref: str
    metric: str
    subscription_item_id: str
    period_start_s: int | None
    source: str
    updated_us: int


class SubscriptionItemsRepository(Protocol):
    def get(self, customer_ref: str, metric: str) -> SubscriptionItemRecord | None: ...

    def put(self, record: SubscriptionItemRecord) -> None: ...

    def delete(self, customer_ref: str, metric: str) -> bool: ...
