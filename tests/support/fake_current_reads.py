"""The current-usage, billing-periods and history inputs from the fake's own repositories, read as
the adapter's one statement reads them (same filters, same order)."""

from __future__ import annotations

from typing import Protocol

from stripemeter_server.service.catalog.ports.definitions import (
    ApiKeysRepository,
    CustomersRepository,
    MetricsRepository,
)
from stripemeter_server.service.catalog.ports.prices import PricesRepository
from stripemeter_server.service.corrections.ports.adjustments import PeriodClosesRepository
from stripemeter_server.service.corrections.ports.backfills import (
    OPEN,
    PENDING,
    BackfillsRepository,
)
from stripemeter_server.service.ports.counters import CountersRepository
from stripemeter_server.service.ports.current_reads import (
    CurrentInputs,
    HistoryInputs,
    PeriodInputs,
)


class _Repos(Protocol):
    tenant_id: str

    @property
    def api_keys(self) -> ApiKeysRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...
    @property
    def counters(self) -> CountersRepository: ...
    @property
    def period_closes(self) -> PeriodClosesRepository: ...
    @property
    def prices(self) -> PricesRepository: ...
    @property
    def backfills(self) -> BackfillsRepository: ...


class FakeCurrentReads:
    def __init__(self, uow: _Repos) -> None:
        self._uow = uow

    def current_inputs(self, customer_ref: str, now_us: int) -> CurrentInputs:
        uow = self._uow
        return CurrentInputs(
            stamp=uow.api_keys.stamp(uow.tenant_id),
            metrics=uow.metrics.all(),
            customer=uow.customers.get(customer_ref),
            counters=uow.counters.find(
                customer_ref=customer_ref, start_from_us=now_us, start_before_us=now_us + 1
            ),
            closes=uow.period_closes.find(customer_ref=customer_ref),
            prices=uow.prices.for_customer(customer_ref),
            backfills=uow.backfills.find(statuses=[OPEN, PENDING]),
        )

    def period_inputs(
        self, customer_ref: str, metric: str, start_us: int, end_us: int
    ) -> PeriodInputs:
        uow = self._uow
        return PeriodInputs(
            stamp=uow.api_keys.stamp(uow.tenant_id),
            metric=uow.metrics.get(metric),
            customer=uow.customers.get(customer_ref),
            counters=uow.counters.find(
                customer_ref=customer_ref,
                metric=metric,
                start_from_us=start_us,
                start_before_us=end_us,
            ),
            closes=uow.period_closes.find(customer_ref=customer_ref),
            backfills=uow.backfills.find(statuses=[OPEN, PENDING], metric=metric),
        )

    def history_inputs(self, customer_ref: str, metric: str) -> HistoryInputs:
        uow = self._uow
        return HistoryInputs(
            stamp=uow.api_keys.stamp(uow.tenant_id),
            metric=uow.metrics.get(metric),
            customer=uow.customers.get(customer_ref),
        )
