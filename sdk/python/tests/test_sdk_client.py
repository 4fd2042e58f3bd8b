"""Request shapes of the sync client (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sdk_testkit import Recorder, ingest_ok
from stripemeter import (
    BillingPeriod,
    ConfigurationError,
    Event,
    EventRejectedError,
    MetricSchema,
    StripeMeterClient,
    compute_idempotency_key,
)
from stripemeter._core import MAX_BATCH_EVENTS

MakeClient = Callable[..., Any]


def reply(body: Any, code: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json=body)


def test_track_sends_a_complete_event(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec).track(
        "api_calls",
        "cus_1",
        quantity="1.50",
        resource_id="r1",
        meta={"a": 1},
        ts="2025-01-16T14:30:00Z",
    )
    event = rec.bodies()[0]["events"][0]
    assert event == {
        "metric": "api_calls",
        "customerRef": "cus_1",
        "quantity": "1.5",
        "ts": "2025-01-16T14:30:00.000000Z",
        "tenantId": "acme",
        "resourceId": "r1",
        "meta": {"a": 1},
        "idempotencyKey": compute_idempotency_key(
            "acme", "api_calls", "cus_1", "2025-01-16T14:30:00Z", "1.5", "r1", {"a": 1}
        ),
    }


def test_bearer_key_is_sent(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec).track("api_calls", "cus_1")
    assert rec.requests[0].headers["authorization"] == "Bearer sk_test"


def test_default_customer_is_used(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec, customer_id="cus_default").track("api_calls")
    assert rec.bodies()[0]["events"][0]["customerRef"] == "cus_default"


def test_explicit_key_is_kept(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec).track("api_calls", "cus_1", idempotency_key="mine")
    assert rec.bodies()[0]["events"][0]["idempotencyKey"] == "mine"


def test_without_tenant_ts_is_sent_but_no_key(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRIPEMETER_TENANT", raising=False)
    rec = Recorder([ingest_ok])
    make_client(rec, tenant_id=None).track("api_calls", "cus_1")
    event = rec.bodies()[0]["events"][0]
    assert ("idempotencyKey" in event, "ts" in event) == (False, True)


def test_tenant_from_environment(make_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPEMETER_TENANT", "from_env")
    assert make_client(Recorder([]), tenant_id=None).tenant_id == "from_env"


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPEMETER_API_KEY", "sk_env")
    rec = Recorder([ingest_ok])
    with StripeMeterClient("http://127.0.0.1:9", transport=httpx.MockTransport(rec)) as client:
        client.track("m", "c")
    assert rec.requests[0].headers["authorization"] == "Bearer sk_env"


def test_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPEMETER_API_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        StripeMeterClient("http://127.0.0.1:9")


def test_rejected_event_raises_from_track(make_client: MakeClient) -> None:
    body = {
        "accepted": 0,
        "duplicates": 0,
        "rejected": 1,
        "results": [
            {"index": 0, "status": "rejected", "error": {"code": "unknown_metric", "message": "x"}}
        ],
    }
    with pytest.raises(EventRejectedError) as info:
        make_client(Recorder([reply(body)])).track("nope", "cus_1")
    assert info.value.result.error_code == "unknown_metric"


def test_large_batches_are_split_and_reindexed(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok, ingest_ok])
    events = [Event("m", "c") for _ in range(MAX_BATCH_EVENTS + 5)]
    result = make_client(rec).ingest(events)
    assert ([len(b["events"]) for b in rec.bodies()], result.results[-1].index) == (
        [MAX_BATCH_EVENTS, 5],
        MAX_BATCH_EVENTS + 4,
    )


def test_track_batch_accepts_dicts(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec).track_batch([{"metric": "m", "customer_ref": "c", "quantity": 2}])
    assert rec.bodies()[0]["events"][0]["quantity"] == "2"


def test_query_posts_the_period_bounds(make_client: MakeClient) -> None:
    from datetime import UTC, datetime

    period = BillingPeriod(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    rec = Recorder([reply({"customerRef": "1", "metric": "m", "value": {"count": 2}})])
    result = make_client(rec).query(1, "m", period)
    assert (rec.bodies()[0], result.value.count) == (
        {
            "customerRef": "1",
            "metric": "m",
            "start": "2025-01-01T00:00:00.000000Z",
            "end": "2025-02-01T00:00:00.000000Z",
        },
        2,
    )


def test_get_usage_queries_the_customer(make_client: MakeClient) -> None:
    rec = Recorder([reply({"customerRef": "cus 1", "asOf": None, "metrics": []})])
    make_client(rec).get_usage("cus 1")
    assert rec.requests[0].url.params["customerRef"] == "cus 1"


def test_metrics_create_posts_the_schema(make_client: MakeClient) -> None:
    metric = {"code": "m", "aggregation": "count", "period": {"type": "month", "anchorDay": 1}}
    rec = Recorder([reply(metric, 200)])
    created = make_client(rec).metrics.create(MetricSchema("m"))
    assert (json.loads(rec.requests[0].content)["code"], created.anchor_day) == ("m", 1)


def test_metric_code_is_escaped_in_paths(make_client: MakeClient) -> None:
    rec = Recorder([reply({"code": "a/b", "aggregation": "sum"})])
    make_client(rec).metrics.get("a/b")
    assert rec.requests[0].url.raw_path == b"/v1/metrics/a%2Fb"


def test_metrics_list_reads_data(make_client: MakeClient) -> None:
    rec = Recorder([reply({"data": [{"code": "a", "aggregation": "sum"}]})])
    assert [m.code for m in make_client(rec).metrics.list()] == ["a"]


def test_float_quantity_sent_as_decimal_text(make_client: MakeClient) -> None:
    rec = Recorder([ingest_ok])
    make_client(rec).track("m", "c", quantity=0.1)
    assert rec.bodies()[0]["events"][0]["quantity"] == "0.1"


def test_response_decimals_are_decimal(make_client: MakeClient) -> None:
    body = {"customerRef": "c", "metric": "m", "value": {"count": 1, "sum": "0.1"}}
    rec = Recorder([reply(body)])
    assert make_client(rec).query(
        "c", "m", ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
    ).value.sum == Decimal("0.1")
