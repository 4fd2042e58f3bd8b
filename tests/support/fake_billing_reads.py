"""The billing inputs from the fake's own repositories, read as the adapter's one statement
reads them (same filters, same order)."""

from __future__ import annotations

from typing import Protocol

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import (
    CustomersRepository,
    MetricsRepository,
)
from stripemeter_server.service.catalog.ports.prices import PricesRepository
from stripemeter_server.service.credits.ports import CreditGrantsRepository
from stripemeter_server.service.ports.billing_reads import BillingInputs
from stripemeter_server.service.ports.counters import CountersRepository
from stripemeter_server.service.stripe_sync.ports.accounts import MappingsRepository


class _Repos(Protocol):
    @property
    def credit_grants(self) -> CreditGrantsRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def mappings(self) -> MappingsRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def counters(self) -> CountersRepository: ...


class FakeBillingReads:
    def __init__(self, uow: _Repos) -> None:
        self._uow = uow

    def billing_inputs(self, customer_ref: str, now_us: int, at_us: int) -> BillingInputs:
        uow = self._uow
        grants = uow.credit_grants.for_customer(customer_ref)
        since = min((to_micros(g.effective_at) for g in grants), default=None)
        started = uow.counters.find(customer_ref=customer_ref, start_before_us=now_us)
        upto_at = uow.counters.find(customer_ref=customer_ref, start_before_us=at_us + 1)
        return BillingInputs(
            grants=grants,
            metrics=uow.metrics.all(),
            prices=uow.prices.for_customer(customer_ref),
            mappings=uow.mappings.all(),
            customer=uow.customers.get(customer_ref),
            burning=[] if since is None else [c for c in started if c.period_end_us > since],
            containing=[c for c in upto_at if c.period_end_us > at_us],
        )
