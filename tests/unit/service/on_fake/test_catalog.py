"""Catalog use cases (metrics, customers, prices) on the in-memory store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.api.schemas.catalog import customer_terms
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.catalog.commands import MetricChanges
from stripemeter_server.service.catalog.metrics import (
    create_metric,
    delete_metric,
    get_metric,
    list_metrics,
    put_customer,
    update_metric,
)
from stripemeter_server.service.catalog.prices import effective_price, put_price
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT, event, ingest

PER_UNIT = {"model": "per_unit", "currency": "usd", "unitAmount": "0.01"}


def test_a_created_metric_is_listed(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        saved = create_metric(uow, metric_from_dict({"code": "gb", "aggregation": "max"}), NOW)
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        codes = [m.code for m in list_metrics(uow)]
    assert (saved.created, codes) == (True, ["calls", "gb", "peak"])


def test_creating_a_metric_twice_with_another_shape_conflicts(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow, pytest.raises(ConflictError):
        create_metric(uow, metric_from_dict({"code": "calls", "aggregation": "max"}), NOW)


def test_an_unknown_metric_is_not_found(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow, pytest.raises(NotFoundError):
        get_metric(uow, "nope")


def test_changing_how_a_metric_counts_rebuilds_its_counters(store: FakeStore) -> None:
    ingest(store, event(quantity="5"), event(quantity="7"))
    with store.unit_of_work(TENANT) as uow:
        saved = update_metric(uow, "calls", MetricChanges.of({"aggregation": "max"}), NOW)
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        counter = uow.counters.find(metric="calls")[0]
    assert (saved.rebuilt, counter.state.max) == (True, Decimal("7"))


def test_deleting_a_metric_is_audited_with_the_actor(store: FakeStore) -> None:
    with store.unit_of_work(TENANT, actor="key_9") as uow:
        delete_metric(uow, "peak", NOW)
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        entries = uow.audit.page(AuditFilter(), before=None, limit=10)
    assert [(e.action, e.actor, e.target_id) for e in entries] == [
        ("metric.delete", "key_9", "peak")
    ]


def test_a_customer_with_an_invalid_time_zone_is_refused_at_the_edge() -> None:
    with pytest.raises(ValidationError) as refused:
        customer_terms("cus_a", {"timezone": "Mars/Olympus"})
    assert refused.value.field == "timezone"


def test_a_customer_on_its_own_anchor_is_stored(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        record, moved = put_customer(uow, customer_terms("cus_a", {"anchorDay": 15}), NOW)
    assert (record.anchor_day, moved) == (15, True)


def test_a_price_refused_at_the_edge_comes_after_an_unknown_metric(store: FakeStore) -> None:
    refused_price = Parsed.of(lambda: price_from_dict({"model": "nope"}))
    with store.unit_of_work(TENANT) as uow, pytest.raises(NotFoundError):
        put_price(uow, "missing", None, refused_price, NOW)
    with store.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        put_price(uow, "calls", None, refused_price, NOW)
    assert refused.value.field == "model"


def test_a_customer_override_price_wins_over_the_default(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        put_price(uow, "calls", None, Parsed(price_from_dict(PER_UNIT)), NOW)
        put_price(
            uow, "calls", "cus_a", Parsed(price_from_dict({**PER_UNIT, "unitAmount": "0.002"})), NOW
        )
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        mine, theirs = effective_price(uow, "calls", "cus_a"), effective_price(uow, "calls", "b")
    assert mine is not None and theirs is not None
    assert (mine.unit_amount, theirs.unit_amount) == (Decimal("0.002"), Decimal("0.01"))
