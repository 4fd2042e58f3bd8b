"""Stripe's asynchronous meter error reports (the emulator's default, as in Stripe): a push
answered 200 and refused later is parked as failed by the pusher, loudly, exactly once;
and the synchronous refusal still parks at send time when the emulator is switched to it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.service.invoicing.ports import JOB_DONE, JOB_FAILED
from stripemeter_server.service.ports.stripe import MeterErrorReport, MeterErrorSample
from stripemeter_server.service.stripe_sync.meter_errors import MeterErrorPoller, record_report
from tests.integration.stripe_push.support import NOW, TEST_KEY, Env

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
TYPO = "cus_typo0000000"  # a customerRef that is a Stripe id is sent as is
CUSTOMER_CODE = "meter_event_customer_not_found"


@pytest.fixture
def http(env: Env) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=env.store.url), context=env.ctx)
    with TestClient(app) as client:
        yield client


def _push_to_unknown_customer(env: Env) -> None:
    env.metric("api_calls")
    env.ingest(
        {"metric": "api_calls", "customerRef": TYPO, "quantity": "4", "ts": "2026-01-10T00:00:00Z"}
    )
    env.drain()


def _report(push_id: str, event_id: str = "evt_test_1", *, count: int = 1) -> MeterErrorReport:
    return MeterErrorReport(
        event_id,
        "v1.billing.meter.error_report_triggered",
        "2026-01-15T00:00:00.000Z",
        "mtr_1",
        count,
        (MeterErrorSample(CUSTOMER_CODE, "No such customer", push_id),),
    )


def test_a_push_stripe_accepts_then_reports_is_parked_with_its_code(env: Env) -> None:
    _push_to_unknown_customer(env)
    rows = env.rows()
    assert [(r.status, r.last_error_code, r.sent_us is not None) for r in rows] == [
        ("failed", CUSTOMER_CODE, True)
    ]


def test_a_push_parked_by_a_report_degrades_readiness(env: Env, http: TestClient) -> None:
    _push_to_unknown_customer(env)
    ready = http.get("/health/ready").json()
    assert (
        ready["status"],
        ready["degraded"],
        "stripemeter_push_failed 1.0" in http.get("/metrics").text,
    ) == ("degraded", ["pushes_failed"], True)


def test_a_push_parked_by_a_report_is_logged_as_an_error(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        _push_to_unknown_customer(env)
    assert [r.levelname for r in caplog.records if CUSTOMER_CODE in r.getMessage()] == ["ERROR"]


def test_the_report_is_listed_once_with_what_it_parked(env: Env, http: TestClient) -> None:
    _push_to_unknown_customer(env)
    MeterErrorPoller(env.ctx).poll(NOW, force=True)  # a second worker reads it again
    events = http.get("/v1/stripe/webhook-events", headers=AUTH).json()["data"]
    push_id = env.rows()[0].push_id
    assert [(e["type"], e["status"], push_id in (e["error"] or "")) for e in events] == [
        ("v1.billing.meter.error_report_triggered", JOB_DONE, True)
    ]


def test_a_recorded_report_parks_nothing_again(env: Env, http: TestClient) -> None:
    _push_to_unknown_customer(env)
    push_id = env.rows()[0].push_id
    assert http.post(f"/v1/pushes/{push_id}/retry", headers=AUTH).status_code == 200
    with env.store.unit_of_work("default") as uow:
        event_id = uow.webhook_jobs.page(status=None, before=None, limit=1)[0].event_id
        outcome = record_report(uow, _report(push_id, event_id), NOW)
        uow.commit()
    assert (outcome.parked, env.rows()[0].status) == ((), "pending")


def test_a_report_naming_a_push_in_flight_waits_for_the_next_poll(env: Env) -> None:
    env.metric("api_calls")
    env.ingest(
        {"metric": "api_calls", "customerRef": TYPO, "quantity": "4", "ts": "2026-01-10T00:00:00Z"}
    )
    env.worker().plan(NOW, full=True)  # planned, not sent: still pending
    push_id = env.rows()[0].push_id
    with env.store.unit_of_work("default") as uow:
        outcome = record_report(uow, _report(push_id), NOW)
        recorded = uow.webhook_jobs.get("evt_test_1")
        uow.commit()
    assert (outcome.deferred, recorded) == (True, None)


def test_errors_a_report_counts_but_does_not_name_mark_it_failed(env: Env) -> None:
    with env.store.unit_of_work("default") as uow:
        outcome = record_report(uow, _report("smp_unknown", count=3), NOW)
        job = uow.webhook_jobs.get("evt_test_1")
        uow.commit()
    assert (outcome.unnamed, job is not None and job.status) == (2, JOB_FAILED)


def test_with_synchronous_errors_the_push_is_parked_at_send_time(env: Env) -> None:
    env.emu.control("POST", "/config", {"async_meter_errors": False})
    try:
        _push_to_unknown_customer(env)
    finally:
        env.emu.control("POST", "/config", {"async_meter_errors": True})
    assert [(r.status, r.last_error_code, r.sent_us) for r in env.rows()] == [
        ("failed", CUSTOMER_CODE, None)
    ]
