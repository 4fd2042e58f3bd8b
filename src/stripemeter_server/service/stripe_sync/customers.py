"""Which Stripe customer a ``customerRef`` bills to.

In order: the customer record's ``stripeCustomerId``; the ref itself when it is a Stripe id
(``cus_…``); else the Stripe customer whose metadata ``stripemeter_customer_ref`` equals the
ref, looked up once and cached (``refresh=True`` after Stripe says the cached one is gone).
"""

from __future__ import annotations

from datetime import datetime

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ports.stripe import StripePort
from stripemeter_server.service.ports.unit_of_work import UnitOfWork

METADATA_KEY = "stripemeter_customer_ref"


def stripe_customer_for(uow: UnitOfWork, stripe: StripePort, customer_ref: str, now: datetime,
                        *, refresh: bool = False) -> str | None:
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


def customer_ref_for(uow: UnitOfWork, stripe: StripePort, stripe_customer_id: str,
                     now: datetime) -> str | None:
    """The reverse, for Stripe's webhooks: which of our customers a Stripe customer is."""
    by_record = uow.customers.by_stripe_id(stripe_customer_id)
    if by_record is not None:
        return by_record.customer_ref
    cached = uow.stripe_customers.ref_for(stripe_customer_id)
    if cached is not None:
        return cached
    metadata = stripe.get_customer(stripe_customer_id).get("metadata") or {}
    ref = metadata.get(METADATA_KEY)
    if isinstance(ref, str) and ref:
        uow.stripe_customers.put(ref, stripe_customer_id, to_micros(now))
        return ref
    return stripe_customer_id
