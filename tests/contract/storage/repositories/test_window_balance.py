"""ReservationsRepository's one-statement reads and writes (ADR 0939): ``window_balance``
answers what the counter, ``GrantsRepository.extras`` and ``held_total`` answer, exactly;
``hold`` writes the reservation with its audit entry, or neither when the key is taken;
and ``GrantsRepository.view`` carries the feature's metric definition."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.entitlements.ports import (
    COMMITTED,
    HELD,
    ExtraGrant,
    Reservation,
    WindowBalance,
)
from stripemeter_server.service.operations.ports import AuditRecord
from stripemeter_server.service.ports.counters import StoredCounter
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_grants import grant

WINDOW = 100


def hold(
    rid: str, key: str, quantity: str, expires_us: int = 500, feature: str = "calls"
) -> Reservation:
    return Reservation(rid, "cus_1", feature, Decimal(quantity), HELD, key, 10, expires_us)


def extra(extra_id: str, amount: str, window: int = WINDOW, feature: str = "calls") -> ExtraGrant:
    return ExtraGrant(
        extra_id, "cus_1", feature, Decimal(amount), window, window + 10, None, None, 5
    )


def entry(audit_id: str) -> AuditRecord:
    return AuditRecord(
        audit_id, 10, "key_1", "reservation.create", "reservation", "rs_1", None, "{}", "req_1"
    )


def balance(store: AnyStore, now_us: int = 200) -> WindowBalance:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        return uow.reservations.window_balance("api", "cus_1", "calls", WINDOW, now_us)


def test_an_empty_window_has_no_counter_and_nothing_held(any_store: AnyStore) -> None:
    assert balance(any_store) == WindowBalance(None, Decimal(0), Decimal(0))


def test_the_balance_is_the_counter_the_windows_extras_and_what_is_held(
    any_store: AnyStore,
) -> None:
    state = CounterState(count=3, sum=Decimal("12.75"))
    with any_store.unit_of_work(TENANT) as uow:
        uow.counters.insert_many(
            [
                StoredCounter("api", "cus_1", WINDOW, WINDOW + 10, state),
                StoredCounter("api", "cus_2", WINDOW, WINDOW + 10, CounterState(count=9)),
                StoredCounter("other", "cus_1", WINDOW, WINDOW + 10, CounterState(count=8)),
            ],
            1,
        )
        for added in (
            extra("ex_1", "0.1"),
            extra("ex_2", "0.2"),
            extra("ex_3", "50", window=WINDOW + 10),
            extra("ex_4", "7", feature="seats"),
        ):
            uow.grants.add_extra(added)
        for held in (
            hold("rs_1", "k1", "2.5"),
            hold("rs_2", "k2", "4"),
            hold("rs_3", "k3", "7", expires_us=150),
            hold("rs_4", "k4", "9", feature="seats"),
        ):
            uow.reservations.add(held)
        uow.reservations.finish("rs_2", COMMITTED, 40, committed_quantity=Decimal("4"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.counters.get(("api", "cus_1", WINDOW))
        extras = sum((e.amount for e in uow.grants.extras("cus_1", "calls", WINDOW)), Decimal(0))
        early = uow.reservations.held_total("cus_1", "calls", 100)
    assert found is not None
    assert balance(any_store, 100) == WindowBalance(found.state, extras, early)
    assert balance(any_store, 100) == WindowBalance(state, Decimal("0.3"), Decimal("9.5"))
    assert balance(any_store, 200).held == Decimal("2.5")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e12"), places=6),
        min_size=0,
        max_size=6,
    )
)
def test_held_and_extra_amounts_are_summed_exactly(
    any_store: AnyStore, amounts: list[Decimal]
) -> None:
    with any_store.unit_of_work(TENANT) as uow:  # rolled back: each example starts empty
        for i, amount in enumerate(amounts):
            uow.grants.add_extra(extra(f"ex_{i}", str(amount)))
            uow.reservations.add(hold(f"rs_{i}", f"k{i}", str(amount)))
        found = uow.reservations.window_balance("api", "cus_1", "calls", WINDOW, 200)
    total = sum(amounts, Decimal(0))
    assert (found.extras, found.held) == (total, total)


def test_a_hold_is_written_with_its_audit_entry_or_not_at_all(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.reservations.hold(hold("rs_1", "k1", "3"), entry("au_1"))
        taken = uow.reservations.hold(hold("rs_2", "k1", "3"), entry("au_2"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = (uow.reservations.get("rs_1"), uow.reservations.get("rs_2"))
        trail = uow.audit.page(AuditFilter(), before=None, limit=10)
    assert (first, taken, kept) == (True, False, (hold("rs_1", "k1", "3"), None))
    assert trail == [entry("au_1")]


def test_the_view_carries_the_features_metric_definition(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.metrics.add("api", '{"code":"api","aggregation":"sum"}', 1)
        uow.features.put("calls", "metered", '{"metric": "api", "type": "metered"}', 1)
        uow.features.put("gone", "metered", '{"metric": "nope"}', 1)
        uow.features.put("sso", "boolean", '{"type": "boolean"}', 1)
        uow.grants.put(grant("calls"), 10)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        metrics = [uow.grants.view("cus_1", key).metric for key in ("calls", "gone", "sso")]
        definition = uow.metrics.get("api")
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.grants.lock_view("cus_1", "calls")
    assert definition is not None
    assert metrics == [definition, None, None]
    assert locked is not None and locked.metric == definition
