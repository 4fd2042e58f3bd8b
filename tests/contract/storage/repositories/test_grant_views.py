"""GrantsRepository's reads for every feature at once (ADR 0937): ``views`` (each feature
with the customer's grant and its metric's definition, and the customer's record) and
``balances`` (each window's counter, extras and held reservations) answer alike on the
fake, SQLite and PostgreSQL, and as the one-window reads do."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.entitlements.ports import (
    HELD,
    BalanceWindow,
    CustomerFeatures,
    FeatureView,
    Reservation,
    WindowBalance,
)
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_grants import extra, grant

API = '{"aggregation":"sum","code":"api"}'


def test_views_read_every_feature_its_grant_its_metric_and_the_customer(
    any_store: AnyStore,
) -> None:
    anchored = CustomerRecord("cus_1", None, 15, "Europe/Paris", 3, 4)
    with any_store.unit_of_work(TENANT) as uow:
        empty = uow.grants.views("cus_1")
        uow.metrics.add("api", API, 1)
        uow.features.put("sso", "boolean", "{}", 1)
        uow.features.put("calls", "metered", '{"metric":"api"}', 1)
        uow.features.put("ghost", "metered", '{"metric":"gone"}', 1)
        uow.grants.put(grant("calls"), 10)
        uow.grants.put(grant("sso", customer="cus_2"), 10)
        uow.customers.upsert(anchored)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        mine, other = uow.grants.views("cus_1"), uow.grants.views("cus_2")
        stored = {f.key: f for f in uow.features.list()}
        calls, sso = uow.grants.get("cus_1", "calls"), uow.grants.get("cus_2", "sso")
    assert empty == CustomerFeatures([], None)
    assert mine == CustomerFeatures(
        [
            FeatureView(stored["calls"], calls, API),
            FeatureView(stored["ghost"], None, None),
            FeatureView(stored["sso"], None, None),
        ],
        anchored,
    )
    assert other.customer is None
    assert [(v.feature.key, v.grant) for v in other.features] == [
        ("calls", None),
        ("ghost", None),
        ("sso", sso),
    ]


def test_balances_answer_each_window_as_its_own_reads_do(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        saved = uow.counters.lock({("api", "cus_1", 100): 110, ("api", "cus_2", 100): 110}, 1)
        for counter in saved.values():
            counter.state = replace(CounterState(), count=2, sum=Decimal("7.50"))
        uow.counters.save(saved.values(), 1)
        for extra_id, created, window in (("b", 7, 100), ("a", 7, 100), ("c", 3, 200)):
            uow.grants.add_extra(extra(f"ex_{extra_id}", None, created, window=window))
        for n, (feature, status, expires) in enumerate(
            [
                ("calls", HELD, 50),
                ("calls", HELD, 5),
                ("calls", "committed", 50),
                ("seats", HELD, 50),
            ]
        ):
            uow.reservations.add(
                Reservation(
                    f"r{n}", "cus_1", feature, Decimal(f"{n + 1}.5"), status, f"k{n}", 1, expires
                )
            )
        uow.commit()
    windows = [
        BalanceWindow("calls", "api", 100, True),
        BalanceWindow("daily", "api", 100, False),
        BalanceWindow("seats", "api", 300, True),
    ]
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.grants.balances("cus_1", windows, 10)
        singles = {
            w.feature: WindowBalance(
                (c.state if (c := uow.counters.get((w.metric, "cus_1", w.start_us))) else None)
                if w.counter
                else None,
                sum(
                    (e.amount for e in uow.grants.extras("cus_1", w.feature, w.start_us)),
                    Decimal(0),
                ),
                uow.reservations.held_total("cus_1", w.feature, 10),
            )
            for w in windows
        }
    assert found == singles
    assert found["calls"].counter == replace(CounterState(), count=2, sum=Decimal("7.50"))
    assert found["calls"].extras == Decimal("100")
    assert (found["calls"].held, found["seats"].held) == (Decimal("1.5"), Decimal("4.5"))
    assert (found["daily"].counter, found["seats"].counter) == (None, None)
