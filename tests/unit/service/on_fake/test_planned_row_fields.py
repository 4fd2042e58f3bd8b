"""The outbox row and the push state a plan writes, field by field: the planner builds both
by position (ADR 0978, 0983), so a field out of place would show here, not only as a wrong
value at Stripe."""

from __future__ import annotations

from stripemeter_server.domain.push_plan import push_identifier
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode, Transport
from stripemeter_server.domain.timestamps import MICROS
from stripemeter_server.service.stripe_sync.planner import plan_tenant_rows
from stripemeter_server.service.stripe_sync.ports.pushes import PENDING, PushRow, PushState
from tests.unit.service.on_fake.stripe_env import JAN_S, TENANT, stripe_env


def test_a_planned_row_has_every_field_where_its_name_says() -> None:
    env = stripe_env([{"code": "calls", "aggregation": "sum"}])
    env.map(StripeMapping("calls", meter_event_name="api_calls", transport=Transport.V2_STREAM))
    env.ingest("acme", "40", "a")
    with env.store.unit_of_work(TENANT) as uow:
        planned = plan_tenant_rows(uow, env.clock.now(), since_us=None)
        uow.commit()
    now_us, start_us, end_us = env.now_us, JAN_S[0] * MICROS, JAN_S[1] * MICROS
    expected = PushRow(
        tenant_id=TENANT,
        push_id=push_identifier(TENANT, "calls", "acme", start_us, 0),
        metric="calls",
        customer_ref="acme",
        period_start_us=start_us,
        period_end_us=end_us,
        seq=0,
        mode=SyncMode.METER_EVENTS,
        transport=Transport.V2_STREAM,
        target="api_calls",
        stripe_customer_id=None,
        value=40,
        pushed_after=40,
        timestamp_s=now_us // MICROS,
        status=PENDING,
        attempts=0,
        last_error=None,
        last_error_code=None,
        next_attempt_us=now_us,
        lease_until_us=None,
        created_us=now_us,
        sent_us=None,
        updated_us=now_us,
    )
    assert planned == [expected]
    assert env.rows() == [expected]


def test_a_planned_state_has_every_field_where_its_name_says() -> None:
    env = stripe_env([{"code": "calls", "aggregation": "sum"}])
    env.map(StripeMapping("calls", meter_event_name="api_calls", transport=Transport.V2_STREAM))
    env.ingest("acme", "40", "a")
    with env.store.unit_of_work(TENANT) as uow:
        plan_tenant_rows(uow, env.clock.now(), since_us=None)
        uow.commit()
    start_us, end_us = JAN_S[0] * MICROS, JAN_S[1] * MICROS
    with env.store.unit_of_work(TENANT, read_only=True) as uow:
        states = uow.pushes.states("calls", ["acme"])
        (scanned,) = uow.pushes.changed_counters("calls", since_us=None, min_end_us=None)
    expected = PushState(
        metric="calls",
        customer_ref="acme",
        period_start_us=start_us,
        period_end_us=end_us,
        target="meter_events:api_calls",
        pushed_units=40,
        next_seq=1,
        last_ts_s=env.now_us // MICROS,
        counter_updated_us=scanned.updated_us,
    )
    assert states == {("calls", "acme", start_us): expected}
