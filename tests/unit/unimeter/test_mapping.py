"""Unimeter's schemas and events in our terms (ADR 0620)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.counters import Contribution, CounterState
from stripemeter_server.domain.metrics import Aggregation, Metric, metric_from_dict
from stripemeter_server.unimeter import mapping as um
from stripemeter_server.unimeter.payloads import WireEvent, WireFilter, WireSchema, WireThreshold


def schema(**changes: object) -> WireSchema:
    base: dict[str, object] = {
        "code": "api_calls",
        "agg_type": 0,
        "recurring": False,
        "field_name": "",
        "filters": (),
        "thresholds": (),
        "period_type": 1,
        "billing_cycle_day": 1,
    }
    return WireSchema(**{**base, **changes})  # type: ignore[arg-type]


def test_a_calendar_schema_is_a_monthly_metric_on_its_cycle_day() -> None:
    metric = metric_from_dict(um.metric_body(schema(agg_type=1, billing_cycle_day=15)))
    assert (metric.aggregation, metric.period.type.value, metric.period.anchor_day) == (
        Aggregation.SUM,
        "month",
        15,
    )


def test_count_unique_counts_the_named_property() -> None:
    metric = metric_from_dict(um.metric_body(schema(agg_type=4, field_name="user")))
    assert metric.unique_property == "meta.user"
    assert um.listable(metric) == (4, "user")


def test_a_one_value_filter_becomes_a_metric_filter() -> None:
    body = um.metric_body(schema(filters=(WireFilter("region", ("eu",)),)))
    assert body["filter"] == {"meta.region": "eu"}


@pytest.mark.parametrize(
    "changes",
    [
        {"recurring": True},
        {"agg_type": 9},
        {"period_type": 7},
        {"billing_cycle_day": 29},
        {"agg_type": 4},
        {"filters": (WireFilter("region", ("eu", "us")),)},
    ],
)
def test_what_we_cannot_hold_faithfully_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(um.MappingError):
        um.metric_body(schema(**changes))


def test_thresholds_become_named_alert_rules() -> None:
    rules = um.threshold_rules(
        schema(thresholds=(WireThreshold("soft", 100, False), WireThreshold("hard", 500, True)))
    )
    assert rules == [
        {
            "type": "quantity",
            "metric": "api_calls",
            "threshold": "100",
            "recurrence": "period",
            "name": "unimeter:api_calls:0:soft",
        },
        {
            "type": "quantity",
            "metric": "api_calls",
            "threshold": "500",
            "recurrence": "period",
            "name": "unimeter:api_calls:1:hard",
        },
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [("unimeter:api_calls:1:hard", "hard"), ("Spend watch", "Spend watch"), (None, "alr_1")],
)
def test_an_alert_names_its_threshold_code(name: str | None, code: str) -> None:
    assert um.threshold_code(name, "api_calls", "alr_1") == code


def test_flags_are_the_thresholds_the_value_has_reached() -> None:
    rules = [
        ("unimeter:api_calls:0:soft", Decimal(100)),
        ("unimeter:api_calls:1:hard", Decimal(500)),
        ("unimeter:other:0:soft", Decimal(1)),
        ("Spend watch", Decimal(1)),
    ]
    assert [um.alert_flags("api_calls", rules, Decimal(v)) for v in (99, 100, 700)] == [
        0b00,
        0b01,
        0b11,
    ]


def event(ts: int = 0, **changes: object) -> WireEvent:
    base: dict[str, object] = {
        "metric": "api_calls",
        "account_id": 42,
        "timestamp_ns": ts,
        "value": 3,
        "operation": 0,
        "properties": (("region", "eu"),),
    }
    return WireEvent(**{**base, **changes})  # type: ignore[arg-type]


def test_a_timestamped_event_has_one_key_forever() -> None:
    assert um.event_key(event(ts=1_700_000_000_123_456_789)) == um.event_key(
        event(ts=1_700_000_000_123_456_789)
    )
    assert um.event_key(event(ts=1)) != um.event_key(event(ts=2))


def test_timestamp_less_events_are_distinct_calls() -> None:
    assert um.event_key(event()) != um.event_key(event())


def test_an_event_maps_to_an_ingest_event_of_the_account() -> None:
    raw = um.ingest_event(event(ts=1_700_000_000_123_456_789))
    assert (raw["customerRef"], raw["quantity"], raw["ts"], raw["meta"]) == (
        "42",
        "3",
        "2023-11-14T22:13:20.123456Z",
        {"region": "eu"},
    )
    assert "ts" not in um.ingest_event(event())  # the pipeline stamps the receive time


def test_remove_operations_are_refused() -> None:
    with pytest.raises(um.MappingError):
        um.ingest_event(event(operation=2))


def test_the_metrics_field_carries_the_billable_value() -> None:
    state = CounterState()
    for value in ("2", "5"):
        state.apply(Contribution(Decimal(value), 10, value))
    state.adjustments = Decimal(4)
    value = um.aggregate(Metric("m", Aggregation.SUM), state)
    assert (value.sum, value.count, value.max, value.last_value, value.last_ts_ns) == (
        11,
        2,
        5,
        5,
        10_000,
    )


@pytest.mark.parametrize(
    ("ref", "account"), [("42", 42), ("042", None), ("cus_1", None), (str(2**64), None), ("0", 0)]
)
def test_only_account_numbers_are_accounts(ref: str, account: int | None) -> None:
    assert um.account_id(ref) == account
