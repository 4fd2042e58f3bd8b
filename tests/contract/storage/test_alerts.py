"""Alert evaluation inside ingest and adjustments: fire-once semantics, on both stores."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import stamina

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import price_from_dict
from stripemeter_server.service.alerts.ports import AlertEventRecord
from stripemeter_server.service.alerts.rules import create_rule
from stripemeter_server.service.catalog.prices import put_price
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.corrections.adjustments import create_adjustment
from stripemeter_server.service.corrections.commands import adjustment_command
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import ingest, make_tenant, us

METRICS = [{"code": "calls", "aggregation": "sum"}]


_keys = itertools.count()


def ev(quantity: str, ts: str = "2025-01-10T00:00:00Z", customer: str = "cus_1") -> dict[str, Any]:
    return {
        "metric": "calls",
        "customerRef": customer,
        "quantity": quantity,
        "ts": ts,
        "idempotencyKey": f"k{next(_keys)}",
    }


def setup(store: Store, clock: FrozenClock, **rule: Any) -> str:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        view = create_rule(
            uow, parse_new_rule({"metric": "calls", "threshold": "10", **rule}), clock.now()
        )
        uow.commit()
    return view.rule_id


def fired(store: Store) -> list[AlertEventRecord]:
    with store.unit_of_work("acme", read_only=True) as uow:
        return uow.alerts.events()


def test_a_threshold_crossed_inside_one_batch_fires_once(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("6"), ev("6"), ev("6")], clock.now())
    assert len(fired(store)) == 1


def test_a_threshold_crossed_across_batches_fires_on_the_crossing_batch(
    store: Store, clock: FrozenClock
) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("6")], clock.now())
    before = len(fired(store))
    ingest(store, "acme", [ev("6")], clock.now())
    assert (before, len(fired(store))) == (0, 1)


def test_later_usage_in_the_same_period_does_not_fire_again(
    store: Store, clock: FrozenClock
) -> None:
    setup(store, clock)
    for _ in range(3):
        ingest(store, "acme", [ev("11")], clock.now())
    assert len(fired(store)) == 1


def test_a_late_event_into_the_open_period_can_cross(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("6", "2025-01-15T00:00:00Z")], clock.now())
    outcome = ingest(store, "acme", [ev("6", "2025-01-02T00:00:00Z")], clock.now())
    assert outcome.results[0].late and len(fired(store)) == 1


def test_an_adjustment_can_cross(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("6")], clock.now())
    with store.unit_of_work("acme") as uow:
        create_adjustment(
            uow,
            adjustment_command(
                metric="calls",
                customer_ref="cus_1",
                delta_raw="5",
                reason="correction",
                note=None,
                at=None,
            ),
            actor="test",
            now=clock.now(),
        )
        uow.commit()
    assert len(fired(store)) == 1


def test_the_next_period_fires_again(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("11")], clock.now())
    clock.advance(timedelta(days=31))
    ingest(store, "acme", [ev("11", "2025-02-10T00:00:00Z")], clock.now())
    assert [e.period_start_us for e in fired(store)] == [us_of("2025-01-01"), us_of("2025-02-01")]


def test_a_once_rule_never_fires_twice_for_a_customer(store: Store, clock: FrozenClock) -> None:
    setup(store, clock, recurrence="once")
    ingest(store, "acme", [ev("11")], clock.now())
    clock.advance(timedelta(days=31))
    ingest(store, "acme", [ev("11", "2025-02-10T00:00:00Z")], clock.now())
    assert len(fired(store)) == 1


def test_a_rule_for_one_customer_ignores_the_others(store: Store, clock: FrozenClock) -> None:
    setup(store, clock, customerRef="cus_1")
    ingest(store, "acme", [ev("50", customer="cus_2")], clock.now())
    assert fired(store) == []


def test_a_rule_for_all_customers_fires_for_each(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    ingest(store, "acme", [ev("50", customer="cus_1"), ev("50", customer="cus_2")], clock.now())
    assert sorted(e.customer_ref for e in fired(store)) == ["cus_1", "cus_2"]


def test_a_percent_threshold_fires_at_that_share_of_the_limit(
    store: Store, clock: FrozenClock
) -> None:
    setup(store, clock, threshold="80", percentOf="100")
    ingest(store, "acme", [ev("79")], clock.now())
    before = len(fired(store))
    ingest(store, "acme", [ev("1")], clock.now())
    assert (before, len(fired(store))) == (0, 1)


def test_a_spend_rule_fires_on_the_priced_amount(store: Store, clock: FrozenClock) -> None:
    setup(store, clock, type="spend", metric=None, threshold="5")
    with store.unit_of_work("acme") as uow:
        put_price(
            uow,
            "calls",
            None,
            Parsed(price_from_dict({"model": "per_unit", "currency": "usd", "unitAmount": "0.5"})),
            clock.now(),
        )
        uow.commit()
    ingest(store, "acme", [ev("9")], clock.now())
    before = len(fired(store))
    ingest(store, "acme", [ev("1")], clock.now())
    assert (before, len(fired(store))) == (0, 1)


def test_events_are_numbered_in_sequence_per_tenant(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    for customer in ("a", "b", "c"):
        ingest(store, "acme", [ev("11", customer=customer)], clock.now())
    assert [e.seq for e in fired(store)] == [1, 2, 3]


def test_a_webhook_rule_queues_one_delivery_that_one_claim_takes(
    store: Store, clock: FrozenClock
) -> None:
    setup(store, clock, webhookUrl="https://hooks.example.com/hook")
    ingest(store, "acme", [ev("11")], clock.now())
    claims = []
    for _ in range(2):
        with store.unit_of_work("acme") as uow:
            claims.append(uow.alerts.claim_due(us(clock.now()), 60_000_000, 10))
            uow.commit()
    assert [len(c) for c in claims] == [1, 0]


def us_of(day: str) -> int:
    from stripemeter_server.domain.timestamps import parse_timestamp

    return us(parse_timestamp(f"{day}T00:00:00Z"))


def test_concurrent_crossings_fire_once(store: Store, clock: FrozenClock) -> None:
    setup(store, clock)
    barrier = threading.Barrier(4)

    def cross() -> None:
        barrier.wait()
        for attempt in stamina.retry_context(on=RetryableConflict, attempts=10):
            with attempt:
                ingest(store, "acme", [ev("11")], clock.now())

    threads = [threading.Thread(target=cross) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fired(store)) == 1


def test_alert_sequence_numbers_have_no_gaps_when_a_rule_had_already_fired(
    store: Store, clock: FrozenClock
) -> None:
    setup(store, clock)
    with store.unit_of_work("acme") as uow:
        second = create_rule(
            uow, parse_new_rule({"metric": "calls", "threshold": "20"}), clock.now()
        )
        uow.commit()
    ingest(store, "acme", [ev("11")], clock.now())  # fires the first rule
    ingest(store, "acme", [ev("1")], clock.now())  # the first rule again: already fired
    with store.unit_of_work("acme") as uow:  # a repeat fire, refused by the once-key
        first = fired(store)[0]
        assert (
            uow.alerts.fire(
                event_id="again",
                rule_id=first.rule_id,
                customer_ref=first.customer_ref,
                metric=first.metric,
                period_start_us=first.period_start_us,
                period_end_us=first.period_end_us,
                payload="{}",
                now_us=us(clock.now()),
            )
            is None
        )
        uow.commit()
    ingest(store, "acme", [ev("10")], clock.now())  # crosses the second rule
    assert [e.seq for e in fired(store)] == [1, 2]
    assert fired(store)[1].rule_id == second.rule_id
