"""/health/ready checks the background loops' heartbeats and says which check failed;
/metrics has the ingest, latency, counter-update and state series with Prometheus names."""

from __future__ import annotations

import threading
from datetime import timedelta

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.heartbeat import BeatingStop
from tests.conftest import NOW
from tests.integration.operations.conftest import nodes


def _beat(url: str, loop: str, clock: FrozenClock, process: str = "w1") -> None:
    store = Store(url)
    try:
        BeatingStop(threading.Event(), store, clock, loop, process=process).beat(force=True)
    finally:
        store.close()


def test_a_required_loop_that_never_beat_fails_readiness(db_url: str) -> None:
    with nodes(db_url, count=1, ready_workers="alert-delivery") as (node,):
        answer = node.http.get("/health/ready")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failed"] == ["workers"]
        assert body["checks"] == {"database": True, "migrations": True, "workers": False}
        assert body["workers"]["alert-delivery"]["reason"] == "required but never beat"
        _beat(db_url, "alert-delivery", FrozenClock(NOW))
        assert node.http.get("/health/ready").status_code == 200


def test_a_loop_whose_beat_went_stale_fails_readiness_and_names_itself(db_url: str) -> None:
    _beat(db_url, "stripe-push", FrozenClock(NOW - timedelta(seconds=181)))
    _beat(db_url, "alert-delivery", FrozenClock(NOW - timedelta(seconds=5)))
    with nodes(db_url, count=1) as (node,):
        answer = node.http.get("/health/ready")
        assert answer.status_code == 503
        workers = answer.json()["workers"]
        assert workers["alert-delivery"]["ok"] is True
        assert workers["stripe-push"]["ok"] is False
        assert workers["stripe-push"]["ageSeconds"] == 181.0
        _beat(db_url, "stripe-push", FrozenClock(NOW), process="w2")  # another worker took over
        assert node.http.get("/health/ready").status_code == 200


def test_a_loop_beats_when_it_checks_its_stop_event(db_url: str) -> None:
    store = Store(db_url)
    stop = threading.Event()
    beating = BeatingStop(stop, store, FrozenClock(NOW), "alert-delivery", process="p")
    assert beating.is_set() is False
    stop.set()
    assert beating.is_set() is True
    with store.unit_of_work(read_only=True) as uow:
        [beat] = uow.heartbeats.all()
    store.close()
    assert (beat.worker_id, beat.loop, beat.beat_us) == (
        "p",
        "alert-delivery",
        int(NOW.timestamp() * 1_000_000),
    )


def test_metrics_have_units_and_the_operations_series(db_url: str) -> None:
    _beat(db_url, "alert-delivery", FrozenClock(NOW - timedelta(seconds=2)))
    with nodes(db_url, count=1) as (node,):
        done = node.call(
            "POST",
            "/v1/events/ingest",
            json={
                "events": [
                    {
                        "metric": "calls",
                        "customerRef": "c1",
                        "quantity": 1,
                        "ts": "2025-01-16T14:00:00Z",
                    },
                    {
                        "metric": "calls",
                        "customerRef": "c2",
                        "quantity": 1,
                        "ts": "2025-01-16T14:00:00Z",
                    },
                    {"metric": "calls", "customerRef": "c2", "quantity": "x"},
                ]
            },
        )
        assert done.status_code == 200
        text = node.http.get("/metrics").text
    assert 'stripemeter_ingest_events_total{status="accepted"} 2.0' in text
    assert 'stripemeter_ingest_events_total{status="rejected"} 1.0' in text
    assert "stripemeter_counter_updates_total 2.0" in text
    assert (
        'stripemeter_http_request_seconds_bucket{le="0.001",method="POST",'
        'route="/v1/events/ingest",status="200"}'
    ) in text
    assert "stripemeter_open_periods 2.0" in text
    assert 'stripemeter_worker_heartbeat_age_seconds{loop="alert-delivery"} 2.0' in text
    assert "stripemeter_push_lag_seconds 0.0" in text
