"""Form decoding, billing periods, the clock, faults, rate limits and signatures."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.clock import EmulatorClock
from stripe_emulator.errors import StripeError
from stripe_emulator.faults import FaultInjector
from stripe_emulator.forms import decode_form
from stripe_emulator.periods import add_interval, next_boundary
from stripe_emulator.ratelimit import RateLimiter
from stripe_emulator.webhooks import sign

JAN_31 = 1769817600  # 2026-01-31T00:00:00Z
FEB_28 = 1772236800
MAR_31 = 1774915200


def test_bracket_keys_decode_to_nested_dicts() -> None:
    assert decode_form("payload[stripe_customer_id]=cus_1&payload[value]=5") == {
        "payload": {"stripe_customer_id": "cus_1", "value": "5"}
    }


def test_indexed_keys_decode_to_lists() -> None:
    assert decode_form("items[0][price]=p1&items[1][price]=p2") == {
        "items": [{"price": "p1"}, {"price": "p2"}]
    }


def test_month_step_clamps_to_month_end() -> None:
    assert add_interval(JAN_31, "month", 1) == FEB_28


def test_month_step_keeps_anchor_day_after_short_month() -> None:
    assert add_interval(FEB_28, "month", 1, anchor_day=31) == MAR_31


def test_next_boundary_is_strictly_after() -> None:
    assert next_boundary(JAN_31, FEB_28, "month", 1) == MAR_31


def test_frozen_clock_only_moves_when_advanced() -> None:
    clock = EmulatorClock(frozen_at=1000)
    clock.advance(5)
    assert clock.now() == 1005


def test_clock_refuses_to_go_backwards() -> None:
    with pytest.raises(ValueError):
        EmulatorClock(frozen_at=1000).advance(-1)


def test_running_clock_adds_offset_to_wall_time() -> None:
    clock = EmulatorClock(wall=lambda: 500.0)
    clock.advance(100)
    assert clock.now() == 600


def test_fault_fires_count_times_then_stops() -> None:
    faults = FaultInjector()
    faults.add({"kind": "server_error", "path": "/v1/billing/*", "count": 2})
    hits = [faults.take("POST", "/v1/billing/meter_events") for _ in range(3)]
    assert [h is not None for h in hits] == [True, True, False]


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(StripeError):
        FaultInjector().add({"kind": "explode", "path": "/v1/customers"})


def test_limiter_rejects_over_budget_in_one_second() -> None:
    limiter = RateLimiter()
    limiter.hit("all", 1, 10)
    with pytest.raises(StripeError) as info:
        limiter.hit("all", 1, 10)
    assert info.value.code == "rate_limit"


def test_second_holder_of_a_customer_meter_slot_gets_lock_timeout() -> None:
    limiter = RateLimiter()
    limiter.acquire("cus_1", "mtr_1")
    with pytest.raises(StripeError) as info:
        limiter.acquire("cus_1", "mtr_1")
    assert info.value.headers == {"Stripe-Should-Retry": "true"}


def test_signature_is_accepted_by_the_stripe_library() -> None:
    payload, secret = '{"id": "evt_1", "object": "event"}', "whsec_abc"
    header = sign(payload, secret, EmulatorClock().wall_now())
    assert stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=300)
