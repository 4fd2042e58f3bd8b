"""Where a push goes: the Stripe customer, and for usage records the subscription item and
the period's one fixed timestamp. Stripe is asked outside any transaction; what it answers
is cached (and, for a usage record, fixed on the outbox row before the first send, so a
resend after a crash repeats exactly the same call)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.ports.stripe import StripePort
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.stripe_sync.customers import stripe_customer_for
from stripemeter_server.service.stripe_sync.mappings import get_mapping
from stripemeter_server.service.stripe_sync.ports.pushes import PushRow
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    LOOKUP,
    SubscriptionItemRecord,
)

KNOWN_CUSTOMERS_CHUNK = 500  # refs per customer-record read (bound parameters per statement)
# Stripe's codes for "no such customer" on a meter event (sync and error-report forms).
UNKNOWN_CUSTOMER_CODES = frozenset(
    {"meter_event_customer_not_found", "resource_missing", "customer_not_found"}
)


class _LookupNeeded(Exception):
    pass


class _NoNetwork:
    """Lets ``stripe_customer_for`` run in a transaction without calling Stripe there."""

    def find_customer_by_metadata(self, key: str, value: str) -> str | None:
        raise _LookupNeeded


class _Answer:
    def __init__(self, found: str | None) -> None:
        self._found = found

    def find_customer_by_metadata(self, key: str, value: str) -> str | None:
        return self._found


def resolve_customer(
    store: Store, tenant: str, port: StripePort, customer_ref: str, now: datetime, *, refresh: bool
) -> str | None:
    """``stripe_customer_for`` with its one Stripe search made between two short
    transactions (never inside one: on SQLite that would block every writer)."""
    try:
        with store.unit_of_work(tenant, read_only=True) as uow:
            return stripe_customer_for(
                uow, cast(Any, _NoNetwork()), customer_ref, now, refresh=refresh
            )
    except _LookupNeeded:
        pass
    from stripemeter_server.service.stripe_sync.customers import METADATA_KEY

    found = port.find_customer_by_metadata(METADATA_KEY, customer_ref)
    with store.unit_of_work(tenant) as uow:
        result = stripe_customer_for(
            uow, cast(Any, _Answer(found)), customer_ref, now, refresh=True
        )
        uow.commit()
    return result


def known_customers(
    store: Store, tenant: str, customer_refs: Iterable[str], now: datetime
) -> dict[str, str]:
    """The Stripe customers known without asking Stripe (record, ``cus_`` ref, cache), for
    a batch of refs in one read transaction, the customer records read 500 at a time (a
    read per ref was a tenth of a v2 pass, ADR 0895); refs that need a Stripe search are
    left out (``resolve_customer`` looks them up one by one). Same order of sources as
    ``stripe_customer_for``."""
    refs = sorted(set(customer_refs))
    found: dict[str, str] = {}
    with store.unit_of_work(tenant, read_only=True) as uow:
        records: dict[str, CustomerRecord] = {}
        for start in range(0, len(refs), KNOWN_CUSTOMERS_CHUNK):
            records.update(uow.customers.get_many(refs[start : start + KNOWN_CUSTOMERS_CHUNK]))
        for ref in refs:
            record = records.get(ref)
            if record is not None and record.stripe_customer_id:
                found[ref] = record.stripe_customer_id
            elif ref.startswith("cus_"):
                found[ref] = ref
            else:
                cached = uow.stripe_customers.get(ref)
                if cached is not None:
                    found[ref] = cached
    return found


def resolve_usage_target(
    store: Store, row: PushRow, port: StripePort, customer: str, now: datetime
) -> tuple[str, int] | None:
    """(subscription item, timestamp) for a usage record, fixed on the row before sending."""
    if row.target is not None and row.timestamp_s is not None:
        return row.target, row.timestamp_s
    with store.unit_of_work(row.tenant_id, read_only=True) as uow:
        record = uow.subscription_items.get(row.customer_ref, row.metric)
        try:
            price = get_mapping(uow, row.metric).price
        except StripemeterError:
            price = None
    if record is None:
        if price is None:
            return None
        found = port.find_subscription_item(customer, price)
        if found is None:
            return None
        record = SubscriptionItemRecord(
            row.customer_ref,
            row.metric,
            found.item_id,
            found.period_start_s,
            LOOKUP,
            to_micros(now),
        )
    period_start_s = row.period_start_us // MICROS
    timestamp = row.timestamp_s or max(period_start_s, record.period_start_s or period_start_s)
    timestamp = min(timestamp, row.period_end_us // MICROS - 1)
    with store.unit_of_work(row.tenant_id) as uow:
        if record.source == LOOKUP:
            uow.subscription_items.put(record)
        uow.pushes.prepare(
            row.push_id,
            target=record.subscription_item_id,
            stripe_customer_id=customer,
            timestamp_s=timestamp,
            now_us=to_micros(now),
        )
        uow.pushes.set_state_timestamp(row.key, timestamp)
        uow.commit()
    return record.subscription_item_id, timestamp
