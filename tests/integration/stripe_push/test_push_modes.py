"""Decimal precision, v2 meter event streams, legacy usage records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripemeter_server.domain.push_plan import to_units
from tests.integration.stripe_push.support import JAN, T0, Env, assert_identifiers_consistent


def test_decimal_metrics_are_pushed_in_units_of_the_mappings_precision(env: Env) -> None:
    env.metric("gb_hours", "sum", precision=3)
    ref = env.customer()
    for quantity in ("0.1234", "2.0005", "0.0004"):
        env.ingest(
            {
                "metric": "gb_hours",
                "customerRef": ref,
                "quantity": quantity,
                "ts": "2026-01-10T00:00:00Z",
            }
        )
        env.drain()
    env.adjust("gb_hours", ref, "-0.5")
    env.drain()
    local = env.local("gb_hours", ref, JAN)
    assert local == Decimal("1.6243")
    assert env.stripe_total("gb_hours", ref, JAN) == to_units(local, Decimal(1000)) == 1624


def test_a_v2_stream_survives_its_session_expiring_mid_run(env: Env) -> None:
    env.metric("tokens", "sum", transport="v2_stream")
    refs = [env.customer(f"C{i}") for i in range(3)]
    env.ingest(
        *[
            {"metric": "tokens", "customerRef": r, "quantity": "5", "ts": "2026-01-10T00:00:00Z"}
            for r in refs
        ]
    )
    worker = env.worker()
    env.drain(worker)
    env.emu.control("POST", "/clock/advance", {"seconds": 16 * 60})  # Stripe's side only
    env.ingest(
        *[
            {"metric": "tokens", "customerRef": r, "quantity": "2", "ts": "2026-01-11T00:00:00Z"}
            for r in refs
        ]
    )
    env.drain(worker)
    assert [env.stripe_total("tokens", r, JAN) for r in refs] == [7, 7, 7]
    sessions = env.emu.control("GET", "/state")["data"]["meter_event_sessions"]
    assert len(sessions) == 2  # the expired session was renewed once
    assert env.emu.control("GET", "/stream_errors")["data"] == []
    assert_identifiers_consistent(env.emu)


def _events(env: Env) -> list[dict[str, Any]]:
    body = env.emu.control("GET", "/meter_events")
    return list(body["data"])


def _subscribe(env: Env, customer: str) -> str:
    def create(c: Any) -> Any:
        price = c.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 2,
                "product_data": {"name": "Calls"},
                "recurring": {"interval": "month", "usage_type": "metered"},
            }
        )
        c.v1.subscriptions.create(params={"customer": customer, "items": [{"price": price.id}]})
        return price.id

    return str(env.gateway.call(create))


def _usage_total(env: Env, customer: str) -> int:
    def item_of(c: Any) -> Any:
        subs = c.v1.subscriptions.list(params={"customer": customer})
        return subs.data[0]["items"].data[0].id

    item = str(env.gateway.call(item_of))
    return env.gateway.usage_record_summaries(item)[0].total_usage


def test_usage_records_set_the_periods_total_on_the_subscription_item(env: Env) -> None:
    ref = env.customer()
    price = _subscribe(env, ref)
    env.metric("api_calls", "sum", meter=False, mode="usage_records", price=price)
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "40", "ts": "2026-01-03T00:00:00Z"}
    )
    env.drain()
    env.ingest(
        {"metric": "api_calls", "customerRef": ref, "quantity": "2", "ts": "2026-01-14T00:00:00Z"}
    )
    env.adjust("api_calls", ref, "-12")
    env.drain()
    assert _usage_total(env, ref) == env.local("api_calls", ref, JAN) == 30
    rows = env.rows()
    assert {r.timestamp_s for r in rows} == {T0}  # one fixed time: each set replaces the last
    assert sorted(r.value for r in rows) == [30, 40]
