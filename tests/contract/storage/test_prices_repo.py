"""Prices storage and resolution (override over default), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.service.catalog.prices import (
    delete_price,
    effective_price,
    effective_prices,
    get_price,
    put_price,
)
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import make_tenant

METRICS = [{"code": "calls", "aggregation": "sum"}, {"code": "gb", "aggregation": "max"}]
PER_UNIT = {"model": "per_unit", "currency": "usd", "unitAmount": "0.01"}
OVERRIDE = {"model": "per_unit", "currency": "usd", "unitAmount": "0.005"}


def put(
    store: Store, clock: FrozenClock, metric: str, customer: str | None, body: Mapping[str, object]
) -> bool:
    with store.unit_of_work("acme") as uow:
        _, created = put_price(uow, metric, customer, Parsed(price_from_dict(body)), clock.now())
        uow.commit()
    return created


def test_put_creates_then_replaces(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    first = put(store, clock, "calls", None, PER_UNIT)
    second = put(store, clock, "calls", None, {**PER_UNIT, "unitAmount": "0.02"})
    with store.unit_of_work("acme", read_only=True) as uow:
        view = get_price(uow, "calls", None)
    assert (first, second, view.price.unit_amount) == (True, False, Decimal("0.02"))


def test_a_customer_override_wins_over_the_default(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    put(store, clock, "calls", None, PER_UNIT)
    put(store, clock, "calls", "cus_1", OVERRIDE)
    with store.unit_of_work("acme", read_only=True) as uow:
        mine = effective_price(uow, "calls", "cus_1")
        theirs = effective_price(uow, "calls", "cus_2")
    assert mine is not None and theirs is not None
    assert (mine.unit_amount, theirs.unit_amount) == (Decimal("0.005"), Decimal("0.01"))


def test_deleting_the_override_restores_the_default(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    put(store, clock, "calls", None, PER_UNIT)
    put(store, clock, "calls", "cus_1", OVERRIDE)
    with store.unit_of_work("acme") as uow:
        delete_price(uow, "calls", "cus_1", clock.now())
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        price = effective_price(uow, "calls", "cus_1")
    assert price is not None and price.unit_amount == Decimal("0.01")


def test_unpriced_metrics_are_absent(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    put(store, clock, "calls", None, PER_UNIT)
    with store.unit_of_work("acme", read_only=True) as uow:
        assert set(effective_prices(uow, "cus_1")) == {"calls"}


def test_prices_are_per_tenant(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    make_tenant(store, "other", clock.now(), METRICS)
    put(store, clock, "calls", None, PER_UNIT)
    with store.unit_of_work("other", read_only=True) as uow, pytest.raises(NotFoundError):
        get_price(uow, "calls", None)
