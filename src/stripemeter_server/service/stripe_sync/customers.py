"""Which Stripe customer a ``customerRef`` bills to.

In order: the customer record's ``stripeCustomerId``; the ref itself when it is a Stripe id
(``cus_…``); else the Stripe customer whose metadata ``stripemeter_customer_ref`` equals the
ref, looked up once and cached (``refresh=True`` after Stripe says the cached one is gone).
"""

from __future__ import annotations

from datetime import datetime

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ports.stripe import StripePort
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

METADATA_KEY = "stripemeter_customer_ref"


def stripe_customer_for(
    uow: UnitOfWork, stripe: StripePort, customer_ref: str, now: datetime, *, refresh: bool = False
) -> str | None:
    """The Stripe customer id, or None when no Stripe customer is known for the ref."""
    record = uow.customers.get(customer_ref)
    if record is not None and record.stripe_customer_id:
        return record.stripe_customer_id
    if customer_ref.startswith("cus_"):
        return customer_ref
    if not refresh:
        cached = uow.stripe_customers.get(customer_ref)
        if cached is not None:
            return cached
    found = stripe.find_customer_by_metadata(METADATA_KEY, customer_ref)
    if found is None:
        uow.stripe_customers.forget(customer_ref)
        return None
    uow.stripe_customers.put(customer_ref, found, to_micros(now))
    return found
