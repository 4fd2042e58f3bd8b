"""Every feature at once answers what each feature alone does (ADR 0937): on the fake,
SQLite and PostgreSQL, for random features, grants, usage, extra grants, reservations and
billing anchors, ``check_all`` (two reads for all features) equals the per-feature answers
(``access_for`` over the listed features and grants, as ``check_all`` read before, and
``check_feature`` for each key), and the three stores answer alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.entitlements import Access, Enforcement, Feature, FeatureKind, Grant
from stripemeter_server.domain.periods import PeriodType
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.entitlements.access import access_for, check_feature
from stripemeter_server.service.entitlements.all_features import check_all
from stripemeter_server.service.entitlements.features import encode_feature, list_features
from stripemeter_server.service.entitlements.ports import (
    HELD,
    EntitlementsUnitOfWork,
    ExtraGrant,
    Reservation,
)
from stripemeter_server.service.entitlements.usage import usage_window
from stripemeter_server.storage.unit_of_work import Store
from tests.contract.storage.test_properties import SETTINGS
from tests.support.fake_store import FakeStore
from tests.support.ledger import ingest, make_tenant

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
CUSTOMER = "cus_a"
METRICS = [{"code": "calls", "aggregation": "sum"}, {"code": "peak", "aggregation": "max"}]
FEATURES = [
    Feature("a_sso", FeatureKind.BOOLEAN),
    Feature("b_plan", FeatureKind.STATIC, config='{"tier":"pro"}'),
    Feature("c_calls", FeatureKind.METERED, metric="calls"),
    Feature("d_peak", FeatureKind.METERED, metric="peak"),
    Feature("e_daily", FeatureKind.METERED, metric="calls", reset=PeriodType.DAY),
    Feature("f_ghost", FeatureKind.METERED, metric="gone"),  # its metric no longer exists
]
METERED = [f.key for f in FEATURES if f.kind is FeatureKind.METERED]

MOSTLY = st.sampled_from([True, True, True, False])  # a standing grant, most of the time
grants = st.fixed_dictionaries(
    {
        "enabled": MOSTLY,
        "limit": st.integers(0, 120).map(Decimal) | st.none(),
        "enforcement": st.sampled_from(Enforcement),
        "expired": MOSTLY.map(lambda standing: not standing),
        "stop": MOSTLY.map(lambda pays: not pays),
    }
)
scenarios = st.fixed_dictionaries(
    {
        "features": st.sets(st.sampled_from(range(len(FEATURES))), min_size=3),
        "grants": st.dictionaries(st.sampled_from(range(len(FEATURES))), grants, min_size=3),
        "anchor": st.none() | st.integers(1, 28),
        "usage": st.lists(
            st.tuples(st.sampled_from(["calls", "peak"]), st.integers(0, 40), st.integers(0, 40)),
            min_size=1,
            max_size=12,
        ),
        "extras": st.lists(
            st.tuples(st.sampled_from(METERED), st.integers(1, 50), MOSTLY), max_size=5
        ),
        "holds": st.lists(
            st.tuples(st.sampled_from(METERED), st.integers(1, 30), MOSTLY, MOSTLY), max_size=5
        ),
    }
)


def _grant(feature: Feature, drawn: dict[str, Any]) -> Grant:
    return Grant(
        CUSTOMER,
        feature.key,
        drawn["enabled"],
        drawn["limit"] if feature.kind is FeatureKind.METERED else None,
        drawn["enforcement"],
        expires_at=NOW - timedelta(days=1) if drawn["expired"] else None,
        stop_at_zero_credit=drawn["stop"] and feature.kind is FeatureKind.METERED,
    )


def prepare(store: Store | FakeStore, tenant: str, scenario: dict[str, Any]) -> None:
    if isinstance(store, FakeStore):
        store.add_tenant(tenant, NOW, METRICS)
    else:
        make_tenant(store, tenant, NOW, METRICS)
    events = [
        {
            "metric": metric,
            "customerRef": CUSTOMER,
            "quantity": str(quantity),
            "ts": (NOW - timedelta(days=days_ago, hours=1)).isoformat(),
            "idempotencyKey": f"k{i}",
        }
        for i, (metric, quantity, days_ago) in enumerate(scenario["usage"])
    ]
    if events:
        ingest(store, tenant, events, NOW)  # type: ignore[arg-type]
    with store.unit_of_work(tenant) as uow:
        _write(cast(EntitlementsUnitOfWork, uow), scenario)
        uow.commit()


def _write(uow: EntitlementsUnitOfWork, scenario: dict[str, Any]) -> None:
    now_us = to_micros(NOW)
    if scenario["anchor"] is not None:
        uow.customers.upsert(CustomerRecord(CUSTOMER, None, scenario["anchor"], None, 1, 1))
    chosen = [FEATURES[i] for i in sorted(scenario["features"])]
    for feature in chosen:
        uow.features.put(feature.key, feature.kind.value, encode_feature(feature), now_us)
    for i, drawn in scenario["grants"].items():
        uow.grants.put(_grant(FEATURES[i], drawn), now_us)
    measured = {f.key for f in chosen if f.kind is FeatureKind.METERED and f.metric != "gone"}
    for n, (key, amount, this_window) in enumerate(scenario["extras"]):
        if key not in measured:
            continue
        feature = next(f for f in FEATURES if f.key == key)
        start = to_micros(usage_window(uow, feature, CUSTOMER, NOW).start)
        start = start if this_window else start - 1
        extra = ExtraGrant(f"x{n}", CUSTOMER, key, Decimal(amount), start, start + 1, None, None, n)
        uow.grants.add_extra(extra)
    for n, (key, quantity, held, live) in enumerate(scenario["holds"]):
        expires = now_us + (60_000_000 if live else -1)
        status = HELD if held else "committed"
        reservation = Reservation(
            f"r{n}", CUSTOMER, key, Decimal(quantity), status, f"i{n}", 0, expires
        )
        uow.reservations.add(reservation)


def answers(store: Store | FakeStore, tenant: str) -> list[Access]:
    with store.unit_of_work(tenant) as opened:
        uow = cast(EntitlementsUnitOfWork, opened)
        at_once = check_all(uow, CUSTOMER, NOW)
        granted = {r.grant.feature: r.grant for r in uow.grants.for_customer(CUSTOMER)}
        listed = list_features(uow)
        each = [access_for(uow, f, granted.get(f.key), NOW) for f in listed]
        alone = [check_feature(uow, CUSTOMER, f.key, NOW) for f in listed]
    assert at_once == each == alone
    return at_once


@SETTINGS
@given(scenario=scenarios)
def test_every_feature_at_once_answers_what_each_feature_alone_does(
    both_stores: list[Store], scenario: dict[str, Any]
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    found = []
    stores: list[Store | FakeStore] = [FakeStore(), *both_stores]
    for store in stores:
        prepare(store, tenant, scenario)
        found.append(answers(store, tenant))
    assert found[0] == found[1] == found[2]
    assert [a.feature.key for a in found[0]] == [
        FEATURES[i].key for i in sorted(scenario["features"])
    ]
