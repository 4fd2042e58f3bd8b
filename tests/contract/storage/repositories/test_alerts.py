"""AlertsRepository: rules, fire-once events numbered without gaps, the outbox with its
leases, and the attempt log."""

from __future__ import annotations

from typing import Any

from stripemeter_server.service.alerts.ports import (
    DELIVERED,
    PENDING,
    AlertRuleRecord,
    DeliveryAttempt,
)
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def rule(rule_id: str, created_us: int, definition: str = '{"t":1}') -> AlertRuleRecord:
    return AlertRuleRecord(
        rule_id,
        "calls",
        None,
        definition,
        "http://127.0.0.1:9/hook",
        "whsec",
        created_us,
        created_us,
    )


def fire(uow: Any, event_id: str, customer: str = "cus_1", period: int = 100) -> Any:
    return uow.alerts.fire(
        event_id=event_id,
        rule_id="r1",
        customer_ref=customer,
        metric="calls",
        period_start_us=period,
        period_end_us=period + 10,
        payload="{}",
        now_us=50,
    )


def test_rules_are_added_replaced_listed_and_deleted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.alerts.add_rule(rule("r2", 5))
        uow.alerts.add_rule(rule("r1", 5))
        uow.alerts.add_rule(rule("r0", 9))
        uow.alerts.replace_rule(rule("r1", 5, '{"t":2}'))
        deleted, again = uow.alerts.delete_rule("r0"), uow.alerts.delete_rule("r0")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        listed = [r.rule_id for r in uow.alerts.rules()]
        changed = uow.alerts.get_rule("r1")
    assert (listed, changed, deleted, again) == (
        ["r1", "r2"],
        rule("r1", 5, '{"t":2}'),
        True,
        False,
    )


def test_an_alert_fires_once_per_customer_and_period_without_gaps(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = fire(uow, "e1")
        repeat = fire(uow, "e2")
        other = fire(uow, "e3", customer="cus_2")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        fired = (
            uow.alerts.has_fired("r1", "cus_1", 100),
            uow.alerts.has_fired("r1", "cus_1", None),
            uow.alerts.has_fired("r1", "cus_1", 200),
        )
    assert (first.seq, repeat, other.seq, fired) == (1, None, 2, (True, True, False))


def test_events_are_listed_filtered_and_found(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for n, customer in enumerate(("cus_1", "cus_2", "cus_1")):
            fire(uow, f"e{n}", customer=customer, period=100 * (n + 1))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        after_one = [e.event_id for e in uow.alerts.events(after_seq=1)]
        cus_1 = [e.event_id for e in uow.alerts.events(customer_ref="cus_1", limit=1)]
        by_id, by_seq = uow.alerts.get_event("e1"), uow.alerts.event_by_seq(3)
    assert (after_one, cus_1, by_id and by_id.seq, by_seq and by_seq.event_id) == (
        ["e1", "e2"],
        ["e0"],
        2,
        "e2",
    )


def test_a_due_delivery_is_leased_then_recorded(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        event = fire(uow, "e1")
        uow.alerts.enqueue(
            delivery_id="d1",
            event_seq=event.seq,
            rule_id="r1",
            url="http://127.0.0.1:9/hook",
            now_us=50,
        )
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        claimed = [i.delivery_id for i in uow.alerts.claim_due(60, 1000, 10)]
        again = uow.alerts.claim_due(70, 1000, 10)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        uow.alerts.record_attempt(
            DeliveryAttempt(
                "d1", 0, event.seq, "http://127.0.0.1:9/hook", 80, 200, "delivered", None, 5, None
            ),
            status=DELIVERED,
            now_us=80,
        )
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        item = uow.alerts.outbox_item("d1")
        listed = [i.delivery_id for i in uow.alerts.outbox_for_event(event.seq)]
        attempts = [(a.attempt, a.status_code) for a in uow.alerts.attempts(event.seq)]
    assert (claimed, again, listed, attempts) == (["d1"], [], ["d1"], [(1, 200)])
    assert item is not None and (item.status, item.attempts, item.next_attempt_us) == (
        DELIVERED,
        1,
        80,
    )


def test_an_enqueued_delivery_starts_pending(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.alerts.enqueue(
            delivery_id="d1", event_seq=1, rule_id="r1", url="http://127.0.0.1:9/hook", now_us=50
        )
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        item = uow.alerts.outbox_item("d1")
    assert item is not None and (
        item.tenant_id,
        item.status,
        item.attempts,
        item.next_attempt_us,
    ) == (TENANT, PENDING, 0, 50)
